"""Generation slots on the embedded runtime: who generates now, who waits, and whether the runtime
is past what it can serve.

Rules:
- At most ``size`` generations run at once (llama.cpp's parallel slots). Others wait here, in
  arrival order, rather than inside llama.cpp: a request cancelled while it waits (a turn the
  user went on with, a speculative reply that missed) then costs nothing, where one queued inside
  llama.cpp is still read in full before its cancellation is seen at the first token.
- Waiting is not hanging. While the runtime produces tokens for anyone (``tick``, at most once a
  ``TICK_S``) and each time the queue moves, every waiter's ``queue_progress`` callback (a context
  variable set by whoever waits: the session's turn watchdog) is called, so a reply behind a long
  one is not ended as stalled. A runtime that produces nothing at all still stalls its waiters.
- The runtime is *overloaded* while a request has waited longer than ``target_s`` for a slot,
  and for ``cooldown_s`` after one that did got its slot. The server then refuses new sessions
  (resumed ones still come back) and reports not-ready, so the sessions it has keep their
  latency and a balancer sends new ones elsewhere. This measures the CPU it runs on, not a
  constant tuned to one: a slower machine overloads at fewer sessions.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

queue_progress: ContextVar[Callable[[], None] | None] = ContextVar(
    "llm_queue_progress", default=None
)
"""Called while a request waits for a slot, each time the queue moves."""

DEFAULT_TARGET_S = 0.5
"""Half of a text turn's one-second first-token budget may go on waiting; prefill needs the rest."""

TICK_S = 1.0
"""How often waiters hear that the runtime is still producing: far below any stall bound."""

DEFAULT_COOLDOWN_S = 5.0
"""Long enough that admission does not flap between two turns of the sessions already open."""


@dataclass
class _Waiter:
    granted: asyncio.Future[None]
    since: float
    progress: Callable[[], None] | None


class LLMSlots:
    def __init__(
        self,
        size: int,
        *,
        target_s: float = DEFAULT_TARGET_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = max(1, size)
        self.target_s = target_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._running = 0
        self._waiters: deque[_Waiter] = deque()
        self._overloaded_until = float("-inf")
        self._last_tick = float("-inf")
        self.granted = 0
        self.waited_past_target = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> float:
        """Wait for a slot; returns how long that took, in seconds. Pair with ``release`` once
        the generation has stopped (not merely been asked to)."""
        since = self._clock()
        if self._running < self.size and not self._waiters:
            self._running += 1
        else:
            granted = asyncio.get_running_loop().create_future()
            waiter = _Waiter(granted, since, queue_progress.get())
            self._waiters.append(waiter)
            try:
                await waiter.granted
            except asyncio.CancelledError:
                if waiter.granted.done() and not waiter.granted.cancelled():
                    self.release()  # handed a slot in the same instant: pass it on
                else:
                    self._waiters.remove(waiter)
                raise
        waited = self._clock() - since
        self.granted += 1
        if waited > self.target_s:
            self.waited_past_target += 1
            self._overloaded_until = self._clock() + self.cooldown_s
        return waited

    def overloaded(self) -> bool:
        now = self._clock()
        if now < self._overloaded_until:
            return True
        return bool(self._waiters) and now - self._waiters[0].since > self.target_s

    def tick(self) -> None:
        """A running generation produced something: the waiters are behind work, not a hang."""
        now = self._clock()
        if now - self._last_tick >= TICK_S:
            self._last_tick = now
            self._tell_waiters()

    def release(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.granted.done():
                waiter.granted.set_result(None)
                self._tell_waiters()
                return
        self._running -= 1

    def _tell_waiters(self) -> None:
        for waiter in self._waiters:
            if waiter.progress is not None:
                waiter.progress()
