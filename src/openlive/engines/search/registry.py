"""Map the search settings to a provider; ``None`` when no search URL is configured."""

from __future__ import annotations

from ...settings import Settings
from .base import SearchProvider
from .searxng import SearxNGSearch

PROVIDERS = {"searxng": SearxNGSearch}


def create_search_provider(settings: Settings) -> SearchProvider | None:
    if not settings.search_url:
        return None
    provider = PROVIDERS.get(settings.search_provider)
    if provider is None:
        raise ValueError(
            f"unknown search provider {settings.search_provider!r}; use one of {sorted(PROVIDERS)}"
        )
    return provider(settings.search_url, timeout_s=settings.search_timeout_s)
