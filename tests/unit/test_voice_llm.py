"""Which LLM answers voice sessions (engines/llm/voice.py): measured, and settings win."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from openlive.engines.llm import ChatDelta, ChatRequest, Usage
from openlive.engines.llm.voice import (
    FIRST_CLAUSE_TOKENS,
    VOICE_BUDGET_MS,
    LLMSpeed,
    choose_voice_llm,
    keeps_up,
    measure_speed,
)
from openlive.settings import Settings


class PacedLLM:
    """Writes a token every ``per_token_s`` after ``prefill_s``: a model of a known speed."""

    def __init__(self, prefill_s: float, per_token_s: float) -> None:
        self.prefill_s = prefill_s
        self.per_token_s = per_token_s

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        tokens = request.max_tokens or 16
        await asyncio.sleep(self.prefill_s)
        for index in range(tokens):
            if index:
                await asyncio.sleep(self.per_token_s)
            yield ChatDelta(text=" word")
        yield ChatDelta(usage=Usage(prompt_tokens=30, completion_tokens=tokens))


async def test_the_measured_speed_is_the_prefill_and_the_decode_rate():
    speed = await measure_speed(PacedLLM(prefill_s=0.2, per_token_s=0.05))
    assert speed.turn_prefill_ms == pytest.approx(200, abs=60)
    assert speed.decode_tokens_per_s == pytest.approx(20, rel=0.3)


def test_a_model_keeps_up_when_its_first_clause_is_within_the_budget():
    fast = LLMSpeed(turn_prefill_ms=100, decode_tokens_per_s=40)
    slow = LLMSpeed(turn_prefill_ms=300, decode_tokens_per_s=10)
    assert fast.first_clause_ms == 100 + FIRST_CLAUSE_TOKENS / 40 * 1000
    assert keeps_up(fast) and fast.first_clause_ms <= VOICE_BUDGET_MS
    assert not keeps_up(slow)


async def test_same_keeps_the_main_llm_and_a_named_main_llm_is_never_measured():
    slow = PacedLLM(prefill_s=0.5, per_token_s=0.2)
    reports: list[str] = []
    report = lambda stage, message: reports.append(message)  # noqa: E731
    assert await choose_voice_llm(Settings(voice_llm="same"), slow, report) is None  # type: ignore[arg-type]
    named = Settings(llm="embedded:qwen2.5-coder-1.5b")
    assert await choose_voice_llm(named, slow, report) is None  # type: ignore[arg-type]
    assert reports == []  # nothing measured, nothing loaded
