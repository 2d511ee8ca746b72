"""Web search for the ``googleSearch`` tool: a small provider interface, and a SearxNG client."""

from .base import SearchError, SearchProvider, SearchResult
from .registry import create_search_provider

__all__ = ["SearchError", "SearchProvider", "SearchResult", "create_search_provider"]
