"""The turn watchdog: every model turn ends with ``turnComplete`` (or a clean close), whatever an
engine does (docs/design.md, "Interruption and truth").

Rules:
- A reply makes progress when the model yields a piece or the reply sends a message. While it
  generates, ``stall_s`` without progress means an engine hangs: the watchdog calls ``on_stall``
  once, and the session ends the turn (TIMED_OUT) and closes with 1011.
- Only generating counts. A blocking tool call waits for the client, who may take its time, and
  playback is a known, bounded wait; the watchdog starts counting afresh when generation resumes.
- Waiting for an embedded LLM slot behind other sessions counts as progress while that runtime
  produces tokens (engines/llm/slots.py, through the reply task's context): that is load, which
  admission answers, not a hang.
- It measures on the session's clock, so a test moves time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from .clock import Clock
from .pieces import Piece

DEFAULT_STALL_S = 45.0
"""Generous on purpose: a cold remote model or a long camera analysis is slow, not stuck."""


class Watchdog:
    def __init__(
        self,
        clock: Clock,
        stall_s: float,
        *,
        counting: Callable[[], bool],
        on_stall: Callable[[], None],
    ) -> None:
        self._clock = clock
        self._stall_s = stall_s
        self._counting = counting  # whether the turn is generating now
        self._on_stall = on_stall
        self._last_progress = clock.now()
        self._task: asyncio.Task[None] | None = None

    async def watch(self, pieces: AsyncGenerator[Piece, None]) -> AsyncIterator[Piece]:
        """The reply's pieces, each one counted as progress."""
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                self.progress()
                yield piece

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="turn-watchdog")

    def progress(self) -> None:
        self._last_progress = self._clock.now()

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch(self) -> None:
        while True:
            wait = self._last_progress + self._stall_s - self._clock.now()
            if wait > 0:
                await self._clock.sleep(wait)
            elif not self._counting():
                self.progress()  # waiting for the client or for playback: not a stall
            else:
                self._task = None
                self._on_stall()
                return
