"""Which LLM answers voice sessions, measured on this machine at start.

A spoken answer cannot start before its first clause is written, so a voice turn needs the model
to read the turn and write a few words quickly; a text turn streams from the first token and can
afford a slower, better model. Rules:

* ``voice_llm = "same"``: voice sessions use the main LLM. An explicit spec (``embedded:<name or
  path>``, ``openai:<url>``, as for ``llm``) is loaded and used for voice sessions, unmeasured.
* ``voice_llm = "auto"`` (the default) measures only when the main LLM is the packaged default
  (``llm = embedded``): a model the operator named is theirs to keep. One warm-up turn (the
  prefix cached, as in a conversation) gives the turn's prefill and the decode rate; the first
  clause is ready ``prefill + FIRST_CLAUSE_TOKENS / rate`` after the turn ends. Within
  ``VOICE_BUDGET_MS`` the default answers voice too; over it, the faster packaged model does
  (when installed), and the start-up log says why, with the figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ...settings import Settings
from .base import ChatRequest, LLMEngine, LLMError
from .embedded import EmbeddedLLM
from .model_source import ModelNotFound, packaged
from .registry import create_llm_engine, embedded_llm

log = logging.getLogger(__name__)

FIRST_CLAUSE_TOKENS = 6  # the speech pipeline's first clause is ~4 words
VOICE_BUDGET_MS = 450.0  # the first clause's words this soon after the turn ends, or it drags
FAST_VOICE_MODEL = "qwen2.5-coder-0.5b"

_WARM = [
    {"role": "system", "content": "You are a helpful voice assistant. Answer briefly."},
    {"role": "user", "content": "Hello there."},
]
_TURN = [
    *_WARM,
    {"role": "assistant", "content": "Hi! How can I help you today?"},
    {"role": "user", "content": "What is the tallest mountain in the world?"},
]


@dataclass(frozen=True)
class LLMSpeed:
    turn_prefill_ms: float  # request → first token, with the conversation's prefix cached
    decode_tokens_per_s: float

    @property
    def first_clause_ms(self) -> float:
        return self.turn_prefill_ms + FIRST_CLAUSE_TOKENS / self.decode_tokens_per_s * 1000

    def __str__(self) -> str:
        return (
            f"first clause in {self.first_clause_ms:.0f} ms (turn prefill "
            f"{self.turn_prefill_ms:.0f} ms, decode {self.decode_tokens_per_s:.1f} tokens/s)"
        )


def keeps_up(speed: LLMSpeed) -> bool:
    """Whether a model this fast can answer a voice turn without a drag before it speaks."""
    return speed.first_clause_ms <= VOICE_BUDGET_MS


async def measure_speed(llm: LLMEngine) -> LLMSpeed:
    """One voice-like turn on ``llm``: the prefix warmed first, then a new question."""
    async for _ in llm.stream(ChatRequest(messages=_WARM, max_tokens=1, temperature=0.0)):
        pass
    started = time.perf_counter()
    first = last = None
    tokens = 0
    async for delta in llm.stream(ChatRequest(messages=_TURN, max_tokens=16, temperature=0.0)):
        if delta.text:
            last = time.perf_counter()
            first = first or last
        if delta.usage is not None:
            tokens = delta.usage.completion_tokens
    if first is None or last is None or tokens < 2:
        raise LLMError("the warm-up turn wrote nothing to measure")
    rate = (tokens - 1) / max(last - first, 1e-3)
    return LLMSpeed((first - started) * 1000, rate)


async def choose_voice_llm(
    settings: Settings, main: LLMEngine, progress: Callable[[str, str], None]
) -> LLMEngine | None:
    """The engine for voice sessions when it is not ``main`` (loaded), else None."""

    def report(stage: str, message: str) -> None:
        log.info("%s", message)  # the choice and its figures stay in the log
        progress(stage, message)

    choice = settings.voice_llm.strip()
    if choice == "same":
        return None
    if choice != "auto":
        engine = create_llm_engine(settings.model_copy(update={"llm": choice}))
        await engine.load()
        report("llm", f"voice sessions: {engine.description} (voice_llm)")
        return engine
    if settings.llm != "embedded" or not isinstance(main, EmbeddedLLM) or main.source.fallback:
        return None
    speed = await measure_speed(main)
    if keeps_up(speed):
        report("llm", f"voice sessions: the default model too: {speed} on this CPU")
        return None
    try:
        source = packaged(FAST_VOICE_MODEL, settings.models_dir)
    except ModelNotFound as error:
        report("llm", f"voice sessions: the default model, slow here ({speed}); {error}")
        return None
    fast = embedded_llm(source, settings)
    await fast.load()
    fast_speed = await measure_speed(fast)
    if fast_speed.first_clause_ms >= speed.first_clause_ms:
        await fast.aclose()
        report("llm", f"voice sessions: the default model ({speed}; the 0.5B is no faster)")
        return None
    report(
        "llm",
        f"voice sessions: {source.label}: the default model's {speed} is over the "
        f"{VOICE_BUDGET_MS:.0f} ms voice budget on this CPU; this one: {fast_speed} "
        "(text sessions keep the default; set voice_llm=same to keep it for voice too)",
    )
    return fast
