"""Per-turn timings: where the time between the end of the user's speech and the first reply
audio went. Logged per turn (and exported as metrics), measured on the monotonic clock."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

log = logging.getLogger("openlive.trace")

# The points a turn passes, in order, by the names the turn timings endpoint gives them.
POINTS = ("speechEnd", "turnEnd", "transcriptReady", "replyStart", "firstToken", "firstAudio")


@dataclass
class ToolCallSpan:
    """One ``toolCall`` message of the turn: sent, and answered (blocking calls only)."""

    names: tuple[str, ...]
    sent: float
    answered: float | None = None


@dataclass
class TurnTrace:
    speech_end: float | None = None  # the user's last speech sample (estimated from audio time)
    turn_end: float | None = None  # the endpointer decided the turn is over
    transcript_ready: float | None = None  # final ASR text available
    reply_start: float | None = None  # the LLM request went out
    first_token: float | None = None  # first LLM text
    first_audio: float | None = None  # first reply audio chunk queued for the socket
    ended: float | None = None  # the turn ended (played out, interrupted or failed)
    playback_end: float | None = None  # the client's playback of the reply ends (estimated)
    tool_calls: list[ToolCallSpan] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def stages_ms(self) -> dict[str, float]:
        """Consecutive stages in milliseconds; stages with a missing end are left out."""
        points = [
            ("endpointing", self.speech_end, self.turn_end),
            ("asr_final", self.turn_end, self.transcript_ready),
            ("llm_first_token", self.reply_start, self.first_token),
            ("tts_first_chunk", self.first_token, self.first_audio),
            ("voice_to_voice", self.speech_end, self.first_audio),
        ]
        return {
            name: round((end - start) * 1000, 1)
            for name, start, end in points
            if start is not None and end is not None
        }

    def offsets_ms(self) -> tuple[str, dict[str, float]]:
        """Each known point in milliseconds after the turn's origin, and the origin's name: the
        user's end of speech for a spoken turn, else the first point known (a typed turn starts
        at its LLM request). A waterfall draws every stage against this one axis."""
        times = dict(
            zip(
                POINTS,
                (
                    self.speech_end,
                    self.turn_end,
                    self.transcript_ready,
                    self.reply_start,
                    self.first_token,
                    self.first_audio,
                ),
                strict=True,
            )
        )
        known = {name: time for name, time in times.items() if time is not None}
        if not known:
            return "", {}
        origin = "speechEnd" if "speechEnd" in known else next(iter(known))
        zero = known[origin]
        return origin, {name: round((time - zero) * 1000, 1) for name, time in known.items()}

    def log(self, session_id: str) -> None:
        stages = self.stages_ms()
        if stages:
            log.info("turn trace %s %s", session_id, json.dumps(stages))


@dataclass(frozen=True)
class TurnRecord:
    """Which turn a trace belongs to."""

    session_id: str
    turn: int  # 1, 2, ...: the session's model turns in the order they ended (this process)
    modality: str
    outcome: str  # the TurnEvent that ended it (played, interrupted, ...)
