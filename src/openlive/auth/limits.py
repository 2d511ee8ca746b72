"""Per-key limits: concurrent sessions and new sessions per minute, plus a server-wide cap.

Counters are per process. A refusal is a clean close with the hosted service's wording for
RESOURCE_EXHAUSTED, never a hang.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from ..protocol.errors import CloseCode, ProtocolError

EXHAUSTED = "Resource has been exhausted (e.g. check quota)."


@dataclass
class SessionLimits:
    max_sessions: int = 0  # server-wide; 0 = unlimited
    max_sessions_per_key: int = 0
    max_new_sessions_per_minute: int = 0
    _open: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _starts: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    @property
    def open_sessions(self) -> int:
        return sum(self._open.values())

    def acquire(self, key: str) -> None:
        """Count a new session for ``key`` or refuse it. Pair with ``release``."""
        now = time.monotonic()
        starts = self._starts[key]
        while starts and starts[0] < now - 60:
            starts.popleft()
        if self.max_sessions and self.open_sessions >= self.max_sessions:
            raise ProtocolError(EXHAUSTED, CloseCode.INTERNAL_ERROR)
        if self.max_sessions_per_key and self._open[key] >= self.max_sessions_per_key:
            raise ProtocolError(EXHAUSTED, CloseCode.INTERNAL_ERROR)
        if self.max_new_sessions_per_minute and len(starts) >= self.max_new_sessions_per_minute:
            raise ProtocolError(EXHAUSTED, CloseCode.INTERNAL_ERROR)
        starts.append(now)
        self._open[key] += 1

    def release(self, key: str) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
