"""Pacing a session's audio: it may run ahead of the wall clock by a burst, then no faster than
``speed`` times real time.

Rules:
- A microphone sends audio in real time; a client may also upload a recording faster. Every
  second of audio costs VAD frames on the event loop, endpointing, and partial transcripts on
  the speech pool, all shared by every session. So once a session has spent its burst of credit,
  its audio is taken at most ``speed`` seconds of audio per second: the session's reader waits
  before the next blob, its socket's receive window fills, and the client slows down. Nothing
  is refused or lost, and a real-time client never waits (its credit refills as fast as it
  spends it).
- Credit is seconds of audio: it starts full at ``burst_s`` and refills at ``speed`` per second
  of the session's clock, up to ``burst_s``. Taking more than there is waits for the rest.
- ``speed`` 0 turns pacing off.
"""

from __future__ import annotations

from .clock import Clock


class AudioPace:
    def __init__(self, clock: Clock, *, speed: float, burst_s: float) -> None:
        self._clock = clock
        self.speed = speed
        self.burst_s = burst_s
        self._credit_s = burst_s
        self._at = clock.now()
        self.waited_s = 0.0
        """All the time this session's audio was held back, for logs and tests."""

    def delay_for(self, audio_s: float) -> float:
        """Spend ``audio_s`` of credit; how long to wait before taking that audio (0: now)."""
        if self.speed <= 0:
            return 0.0
        now = self._clock.now()
        self._credit_s = min(self.burst_s, self._credit_s + (now - self._at) * self.speed)
        self._at = now
        self._credit_s -= audio_s
        if self._credit_s >= 0:
            return 0.0
        # In debt: the wait refills the credit to zero; the refill clock starts after it.
        delay = -self._credit_s / self.speed
        self._credit_s = 0.0
        self._at = now + delay
        self.waited_s += delay
        return delay

    async def take(self, audio_s: float) -> None:
        """Return once ``audio_s`` of audio may be processed."""
        delay = self.delay_for(audio_s)
        if delay > 0:
            await self._clock.sleep(delay)
