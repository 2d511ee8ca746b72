"""The last few turn traces of each session, for the demo page's "Turn timings" waterfall.

The page cannot get them over the Live socket: official clients parse every server message, and
an unknown field there would break them. So they are kept here, per session, and read over HTTP
(``GET /v1/live/sessions/{id}/turns``, docs/protocol.md §12) by whoever holds the credential
that opened the session. Only timings are kept, never what was said.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from .trace import TurnTrace

TURNS_KEPT = 20  # per session: enough to see a trend while tuning, small enough to never matter
CLOSED_SESSIONS_KEPT = 32  # a page may read its last turn just after the session closed


def _digest(credential: str) -> bytes:
    # Kept as a digest so the book holds no key; compared in constant time.
    return hashlib.sha256(credential.encode()).digest()


@dataclass
class _Book:
    owner: bytes
    turns: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=TURNS_KEPT))
    count: int = 0
    connections: int = 0  # a resumed session can be open twice for a moment (old and new socket)


class TurnTimings:
    """Recent turn timings per session, readable only with the session's own credential."""

    def __init__(self) -> None:
        self._open: dict[str, _Book] = {}
        self._closed: OrderedDict[str, _Book] = OrderedDict()

    def open(self, session_id: str, credential: str) -> None:
        """A session started (or resumed) with ``credential`` ("" when none was given). A resumed
        session keeps its earlier turns; from now on its new credential reads them."""
        book = self._open.get(session_id) or self._closed.pop(session_id, None) or _Book(b"")
        book.owner = _digest(credential)
        book.connections += 1
        self._open[session_id] = book

    def close(self, session_id: str) -> None:
        book = self._open.get(session_id)
        if book is None:
            return
        book.connections -= 1
        if book.connections > 0:
            return
        del self._open[session_id]
        self._closed[session_id] = book
        while len(self._closed) > CLOSED_SESSIONS_KEPT:
            self._closed.popitem(last=False)

    def add(self, session_id: str, trace: TurnTrace, *, modality: str, outcome: str) -> None:
        """Keep one ended turn. Turns of a session not opened here (unit tests) are dropped."""
        book = self._open.get(session_id)
        stages = trace.stages_ms()
        if book is None or not stages:
            return
        origin, offsets = trace.offsets_ms()
        book.count += 1
        book.turns.append(
            {
                "turn": book.count,
                "modality": modality,
                "outcome": outcome,
                "origin": origin,
                "stagesMs": stages,
                "offsetsMs": offsets,
            }
        )

    def read(self, session_id: str, credential: str) -> list[dict[str, Any]] | None:
        """The session's recent turns, oldest first; None when there is no such session or
        ``credential`` is not the one that opened it (the caller cannot tell which)."""
        book = self._open.get(session_id) or self._closed.get(session_id)
        if book is None or not hmac.compare_digest(book.owner, _digest(credential)):
            return None
        return list(book.turns)
