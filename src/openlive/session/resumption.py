"""Session resumption: snapshots of a conversation in the store, behind unguessable handles.

A handle is handed out (``sessionResumptionUpdate``) only after its snapshot is durably stored,
so anything a client was told it can resume really can be resumed, on any process that shares
the store. Older handles of a session stay valid until they expire: each names the state it was
issued for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..store import SessionStore

SNAPSHOT_VERSION = 1
KEY_PREFIX = "handle:"


def new_handle() -> str:
    return secrets.token_urlsafe(27)  # 36 characters, like the hosted service's handles


@dataclass(frozen=True)
class Resumption:
    store: SessionStore
    ttl_s: float

    async def save(self, snapshot: dict[str, Any]) -> str:
        handle = new_handle()
        await self.store.put(KEY_PREFIX + handle, {"v": SNAPSHOT_VERSION, **snapshot}, self.ttl_s)
        return handle

    async def refresh(self, handle: str, snapshot: dict[str, Any]) -> None:
        """The session ended: its last handle stays valid ``ttl_s`` from now."""
        await self.store.put(KEY_PREFIX + handle, {"v": SNAPSHOT_VERSION, **snapshot}, self.ttl_s)

    async def load(self, handle: str) -> dict[str, Any] | None:
        record = await self.store.get(KEY_PREFIX + handle)
        if record is None or record.get("v") != SNAPSHOT_VERSION:
            return None
        return record
