"""The search provider interface: a query in, the top results (title, URL, snippet) out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SearchError(Exception):
    """The provider failed (unreachable, bad answer, timeout)."""


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    content: str = ""  # a snippet of the page


class SearchProvider(Protocol):
    description: str
    """What the operator should see at start-up: which provider, where."""

    async def search(self, query: str, *, max_results: int) -> list[SearchResult]: ...

    async def aclose(self) -> None: ...
