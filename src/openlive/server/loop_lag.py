"""Event-loop lag: how late the loop runs a timer that is due every ``TICK_S`` (docs/limits.md).

Every session of the process shares one event loop, so anything that holds it (a large message
parsed, an engine called on the loop by mistake, a flood of small frames) delays every session
at once, and a ping unanswered for long enough drops them all. A timer that notes how late it
ran measures exactly that delay, whatever its cause.

It costs next to nothing: a plain callback, no task, so a tick allocates one timer handle and
the observation's float; the recent lags live in a list allocated once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

TICK_S = 0.1
RECENT_TICKS = 100  # recent_max() covers the last 10 s at TICK_S


class LoopLag:
    def __init__(self, observe: Callable[[float], None], tick_s: float = TICK_S) -> None:
        self._observe = observe  # the metrics histogram's observe: seconds late
        self._tick_s = tick_s
        self._recent = [0.0] * RECENT_TICKS
        self._slot = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start ticking on the running loop (the server's lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._schedule(self._loop.time())

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def recent_max(self) -> float:
        """The largest lag of the last ``RECENT_TICKS`` ticks, in seconds."""
        return max(self._recent)

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self._tick_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        # asyncio runs a timer up to its clock resolution early: that is no lag.
        lag = now - self._due if now > self._due else 0.0
        self._recent[self._slot] = lag
        self._slot = (self._slot + 1) % RECENT_TICKS
        self._observe(lag)
        self._schedule(now)  # from now, not from the due time: a stall is counted once
