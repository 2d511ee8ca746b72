"""``googleSearch`` answers: what the model reads from the search results, and the
``groundingMetadata`` the client gets (google-genai's ``types.GroundingMetadata`` field names)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..engines.search import SearchResult

SNIPPET_CHARS = 500


def search_context(query: str, results: Sequence[SearchResult]) -> str:
    """Text added to the user's turn for the model: the results, numbered."""
    lines = [f"Web search results for {query!r}:"]
    for number, result in enumerate(results, 1):
        lines.append(f"[{number}] {result.title} ({result.url})")
        if result.content:
            lines.append(f"    {' '.join(result.content.split())[:SNIPPET_CHARS]}")
    lines.append("Use these results if they help to answer.")
    return "\n".join(lines)


def grounding_metadata(query: str, results: Sequence[SearchResult]) -> dict[str, Any]:
    """camelCase, as on the wire: ``webSearchQueries``, ``groundingChunks[].web``,
    ``searchEntryPoint.renderedContent`` (a small HTML block listing the sources)."""
    links = "".join(
        f'<li><a href="{html.escape(r.url)}">{html.escape(r.title)}</a></li>' for r in results
    )
    rendered = (
        '<div class="openlive-search-entry-point">'
        f"<p>Search: {html.escape(query)}</p><ul>{links}</ul></div>"
    )
    return {
        "webSearchQueries": [query],
        "groundingChunks": [
            {"web": {"uri": r.url, "title": r.title, "domain": urlsplit(r.url).hostname or ""}}
            for r in results
        ],
        "searchEntryPoint": {"renderedContent": rendered},
    }
