"""A SearxNG instance, or anything that speaks its JSON API:
``GET {url}/search?q=<query>&format=json`` → ``{"results": [{"title", "url", "content"}, ...]}``.
(SearxNG serves JSON only when ``json`` is among ``search.formats`` in its settings.yml.)"""

from __future__ import annotations

from typing import Any

import httpx

from .base import SearchError, SearchResult


class SearxNGSearch:
    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.description = f"SearxNG-compatible search at {self.base_url}"
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def search(self, query: str, *, max_results: int) -> list[SearchResult]:
        try:
            response = await self._client.get("/search", params={"q": query, "format": "json"})
            response.raise_for_status()
            payload: Any = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SearchError(f"{self.base_url}: {error}") from error
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise SearchError(f"{self.base_url}: no results list in the answer")
        found = []
        for entry in results:
            if not isinstance(entry, dict) or not entry.get("url"):
                continue
            found.append(
                SearchResult(
                    title=str(entry.get("title") or entry["url"]),
                    url=str(entry["url"]),
                    content=str(entry.get("content") or ""),
                )
            )
            if len(found) == max_results:
                break
        return found

    async def aclose(self) -> None:
        await self._client.aclose()
