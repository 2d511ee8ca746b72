"""One session's resumption handles: when a snapshot is stored, and when the client hears of it.

- A new handle is announced (``sessionResumptionUpdate``) only after its snapshot is stored, so
  every handle a client holds can be resumed (session/resumption.py keeps the store side).
- A new handle is issued after the handshake and after every turn. While a blocking call waits
  for its response, the last handle is re-stored in place, so a resume from it can still answer
  the call.
- When the connection goes, the last handle is refreshed: it stays valid ``ttl_s`` from then.
- Storing happens in the background; a store that fails is logged and the session goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..protocol.server_messages import ServerMessage, SessionResumptionUpdate
from .outbox import Emit
from .resumption import Resumption

log = logging.getLogger("openlive.session")

Snapshot = dict[str, Any]


class Handles:
    def __init__(
        self,
        resumption: Resumption | None,
        snapshot: Callable[[], Snapshot],
        emit: Emit,
        session_id: str,
    ) -> None:
        self._resumption = resumption  # None: the client did not ask for sessionResumption
        self._snapshot = snapshot
        self._emit = emit
        self._session_id = session_id
        self._last: tuple[str, Snapshot] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def publish(self) -> None:
        """Store the session as it is now under a new handle, then tell the client."""
        resumption = self._resumption
        if resumption is None:
            return
        snapshot = self._snapshot()

        async def publish() -> None:
            try:
                handle = await resumption.save(snapshot)
            except Exception:
                log.exception("session %s: could not store a resumption snapshot", self._session_id)
                return
            self._last = (handle, snapshot)
            update = SessionResumptionUpdate(new_handle=handle, resumable=True)
            self._emit(ServerMessage(session_resumption_update=update))

        self._spawn(publish())

    def update(self) -> None:
        """Re-store the last handle's snapshot in place (same handle, newer state)."""
        if self._resumption is None or self._last is None:
            return
        handle, snapshot = self._last[0], self._snapshot()
        self._last = (handle, snapshot)
        self._spawn(self._resumption.refresh(handle, snapshot))

    async def aclose(self) -> None:
        """The connection is gone: finish storing, and keep the last handle alive."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._resumption is None or self._last is None:
            return
        handle, snapshot = self._last
        try:
            await self._resumption.refresh(handle, snapshot)
        except Exception:
            log.exception("session %s: could not refresh its resumption handle", self._session_id)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """Retrieve every outcome: a store that fails in the background is logged here, not by
        asyncio as an exception nobody retrieved."""
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error(
                "session %s: could not store a resumption snapshot: %s", self._session_id, error
            )
