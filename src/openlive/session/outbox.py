"""What the session wants sent, in order, each item tagged with the generation that produced it.

The writer (server side) drops items of a generation that has since been cancelled, so stale output
can never reach the socket, and marks what it did send, so the session knows what the user got.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ..protocol.errors import CloseCode, truncate_reason
from ..protocol.server_messages import ServerMessage


@dataclass
class Outgoing:
    message: ServerMessage
    generation: int | None = None  # None: not part of a reply, always sent
    sent: bool = False
    dropped: bool = False  # withdrawn before it was sent (audio flushed by a paused reply)


Emit = Callable[[ServerMessage], Outgoing]
"""Queue one message of a reply, tagged with the reply's generation: a reply's way to the wire."""


@dataclass(frozen=True)
class Close:
    code: CloseCode
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", truncate_reason(self.reason))


OVERFLOW_REASON = "The client is not reading its messages."


class Outbox:
    """The queue to the writer. ``put`` is the session's one way to the wire.

    ``max_items`` (0 = no bound) caps what waits for a client that does not read: past it the
    writer's next item is a 1008 close, so a stalled peer cannot grow the queue without end."""

    def __init__(self, max_items: int = 0) -> None:
        self._generation = 0
        self._queue: asyncio.Queue[Outgoing | Close] = asyncio.Queue()
        self._max_items = max_items
        self._overflow: Close | None = None

    @property
    def generation(self) -> int:
        """The generation whose output is live; items of any other are stale."""
        return self._generation

    def new_generation(self) -> int:
        """Make everything queued for the current generation stale (a reply was cut off)."""
        self._generation += 1
        return self._generation

    def put(self, message: ServerMessage, generation: int | None = None) -> Outgoing:
        item = Outgoing(message, generation)
        if self._max_items and self._queue.qsize() >= self._max_items:
            self._overflow = Close(CloseCode.POLICY_VIOLATION, OVERFLOW_REASON)
            return item  # dropped: the connection ends before anything after it is sent
        self._queue.put_nowait(item)
        return item

    def close(self, code: CloseCode, reason: str = "") -> None:
        self._queue.put_nowait(Close(code, reason))

    def is_stale(self, item: Outgoing) -> bool:
        if item.dropped:
            return True
        return item.generation is not None and item.generation != self._generation

    async def get(self) -> Outgoing | Close:
        """The next item to send, skipping stale ones."""
        while True:
            if self._overflow is not None:
                return self._overflow
            item = await self._queue.get()
            if isinstance(item, Close) or not self.is_stale(item):
                return item
