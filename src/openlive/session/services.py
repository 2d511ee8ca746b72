"""The shared engines a session uses: one copy per process, shared by every session."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ..engines.llm import LLMEngine
from ..engines.llm.tool_calling import ConstrainedToolCalling, ToolCalling
from ..engines.search import SearchProvider
from ..engines.tts.base import TTSEngine
from .clock import MONOTONIC, Clock
from .recognition import PoolLoad
from .resumption import Resumption
from .trace import TurnRecord, TurnTrace
from .turn_timings import TurnTimings
from .watchdog import DEFAULT_STALL_S


@dataclass(frozen=True)
class SpeechServices:
    vad: Any  # engines.vad.silero.SileroVAD: a shared model, one stream per session
    turn: Any  # engines.turn.smart_turn.SmartTurn
    asr: Any  # engines.asr.whisper.WhisperASR
    tts: TTSEngine
    fast_tts: TTSEngine | None
    asr_executor: Executor
    tts_executor: Executor
    coalesce_ms: int = 20  # tiny PCM blobs are held until this much audio (audio/coalesce.py)
    text_turn: Any = None
    """engines.turn.TextEndOfTurn: the words' end-of-turn signal on the loaded LLM; None when
    the LLM cannot give next-token probabilities (Smart Turn and the silence decide alone)."""
    max_audio_message_s: float = 60.0  # per blob (audio/decode.py, docs/limits.md)
    max_resamplers: int = 4
    max_turn_audio_s: float = 600.0
    """Audio one user turn may hold (session/listener.py, docs/limits.md); 0: no bound."""
    audio_pace: float = 4.0
    """Seconds of audio a session's audio is taken at per second once its burst is spent
    (session/pace.py, docs/limits.md); 0: not paced."""
    audio_burst_s: float = 20.0
    asr_load: PoolLoad = field(default_factory=PoolLoad)
    """Recognition jobs on ``asr_executor`` over every session (session/recognition.py)."""


@dataclass(frozen=True)
class VisionServices:
    engine: Any  # engines.vision.VisionEngine: describes one decoded frame (blocking)
    executor: Executor  # analyses: decode + describe, shared by every session
    probe_executor: Executor  # per-frame validation and scene thumbnails (milliseconds each)
    limits: Any  # engines.vision.ImageLimits
    scene_change: float = 12.0
    background: bool = True  # analyse a settled new scene before the turn ends


@dataclass(frozen=True)
class SessionServices:
    llm: LLMEngine
    default_max_tokens: int = 1024
    speech: SpeechServices | None = None
    vision: VisionServices | None = None
    echo_guard_s: float = 0.25
    barge_in_onset_s: float = 0.096  # sound over a reply that pauses it (session/listener.py)
    tool_calling: ToolCalling = field(default_factory=ConstrainedToolCalling)
    tool_filler_delay_s: float = 1.5
    tool_filler_text: str = "One moment, let me check that."
    tool_response_timeout_s: float = 60.0
    """A blocking call unanswered this long gets an error result (session/tools.py); 0: never."""
    max_pending_calls: int = 64
    """Calls waiting for a response; the oldest idle ones are cancelled past it (tools.py)."""
    search: SearchProvider | None = None
    search_results: int = 3
    resumption: Resumption | None = None
    observe_turn: Callable[[str, str, dict[str, float]], None] | None = None
    """(modality, outcome, stage timings in ms) at the end of every model turn: metrics."""
    turn_timings: TurnTimings | None = None
    """Each session's recent turn traces, for the demo page's waterfall (turn_timings.py)."""
    trace_turn: Callable[[TurnRecord, TurnTrace], None] | None = None
    """The turn and its stage times at the end of every model turn: OpenTelemetry spans
    (server/telemetry.py); None when tracing is off, so a turn pays nothing for it."""
    context_tokens: int = 8192
    """The model's context window per session (what the engine gives one conversation)."""
    clock: Clock = MONOTONIC
    """Every time-based rule of a session reads this clock (unit tests pass a fake one)."""
    voice_llm: LLMEngine | None = None
    """Answers audio sessions instead of ``llm`` (a faster model on a slow CPU); None: ``llm``."""
    turn_stall_s: float = DEFAULT_STALL_S
    """The watchdog's bound: a generating reply that makes no progress this long is ended."""

    def llm_for(self, modality: str) -> LLMEngine:
        if modality == "AUDIO" and self.voice_llm is not None:
            return self.voice_llm
        return self.llm
