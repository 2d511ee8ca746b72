"""The store interface: JSON records by key, with an expiry."""

from __future__ import annotations

from typing import Any, Protocol


class SessionStore(Protocol):
    async def put(self, key: str, record: dict[str, Any], ttl_s: float) -> None:
        """Store ``record`` under ``key`` durably, expiring ``ttl_s`` seconds from now."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The record, or None if absent or expired."""

    async def update(
        self, key: str, change: Any, ttl_s: float | None = None
    ) -> dict[str, Any] | None:
        """Atomically apply ``change(record) -> record | None`` (None deletes) and return the
        new record; None if there was no record. Used for ephemeral-token use counts."""

    async def delete(self, key: str) -> None: ...

    async def aclose(self) -> None: ...
