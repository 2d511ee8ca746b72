"""The session's clock: every time-based rule in session/ reads and waits on one of these.

Rules:
- Nothing in session/ calls ``time.monotonic()`` or ``asyncio.sleep(seconds)`` itself; it asks the
  clock it was given. The server passes :data:`MONOTONIC`; unit tests pass a fake clock they move
  by hand, so turn timing, playback and the watchdog are tested without waiting.
- Readings are seconds on a monotonic scale, comparable only with each other.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""
        ...


class MonotonicClock:
    """Real time: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


MONOTONIC = MonotonicClock()


async def done_within(clock: Clock, future: asyncio.Future[Any], seconds: float) -> bool:
    """Wait until ``future`` is done or ``seconds`` have passed on ``clock``; say which. The
    future is neither cancelled nor awaited for its result."""
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({future, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    return future.done()
