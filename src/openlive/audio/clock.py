"""The playback clock: how much of the audio we sent has the client played by now?

The client is assumed to play each chunk as soon as it arrives and the previous one has finished,
at real time. That estimate decides what the user heard when they interrupt, so history keeps only
that part of the reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlaybackClock:
    rate: int
    _segments: list[tuple[float, float, object]] = field(default_factory=list)
    """(play start, play end, tag) per chunk, in the order sent."""

    def on_sent(self, now: float, samples: int, tag: object = None) -> None:
        start = max(now, self._segments[-1][1]) if self._segments else now
        self._segments.append((start, start + samples / self.rate, tag))

    @property
    def started(self) -> bool:
        return bool(self._segments)

    def end_time(self) -> float | None:
        return self._segments[-1][1] if self._segments else None

    def is_playing(self, now: float) -> bool:
        end = self.end_time()
        return end is not None and now < end

    def stop(self, now: float) -> None:
        """The client flushed its buffer at ``now``: nothing after it will be played."""
        clipped = []
        for start, end, tag in self._segments:
            if start < now:
                clipped.append((start, min(end, now), tag))
        self._segments = clipped

    def played_seconds_by_tag(self, now: float) -> dict[object, float]:
        """For each tag, the seconds of its audio played by ``now``."""
        played: dict[object, float] = {}
        for start, end, tag in self._segments:
            played[tag] = played.get(tag, 0.0) + max(0.0, min(now, end) - start)
        return played

    def played_fraction_by_tag(self, now: float) -> dict[object, float]:
        """For each tag, the fraction of its audio played by ``now`` (0..1)."""
        totals: dict[object, float] = {}
        played: dict[object, float] = {}
        for start, end, tag in self._segments:
            totals[tag] = totals.get(tag, 0.0) + (end - start)
            played[tag] = played.get(tag, 0.0) + max(0.0, min(now, end) - start)
        return {tag: (played[tag] / totals[tag] if totals[tag] else 1.0) for tag in totals}
