"""Turn taking with the real models: a pause in mid-sentence is not the end of the turn, and a
finished question ends well before the silence fallback.

Silero, Smart Turn, Whisper and the LLM's words signal decide, through the same pieces as
bench/turn_taking.py (answers handed back as soon as the candidate is out: the test is about
the rules and the models' answers, not this machine's speed). Judged by rates over several
sentences in two renditions each, with margins: no single score decides the outcome.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openlive.benchmarks.clips import Clip
from openlive.benchmarks.turn_taking import Models, complete_case, cut_case, run_case
from openlive.engines.asr import WhisperASR
from openlive.engines.listening import TURN_RULES, EndpointerConfig, EndReason
from openlive.engines.turn import SmartTurn, TextEndOfTurn
from openlive.engines.vad import SileroVAD

from ..speech import SpeechMaker
from .test_text_eou import text_eou  # noqa: F401  (the fixture: the packaged LLM's signal)

SENTENCES = [
    "Can you tell me what the weather will be like tomorrow in London?",
    "I was wondering if you could help me find a good restaurant near the station.",
    "Please remind me to call my sister when I get home tonight.",
    "How many people live in the largest city of Canada?",
]
PAUSE_MS = 700


@pytest.fixture(scope="module")
def clips(speech: SpeechMaker) -> list[Clip]:
    return [
        Clip(f"heart:{seed}", text, speech.say(text, seed=seed))
        for text in SENTENCES
        for seed in (0, 1)
    ]


@pytest.fixture(scope="module")
def models(
    silero: SileroVAD,
    smart_turn: SmartTurn,
    whisper_asr: WhisperASR,
    text_eou: TextEndOfTurn,  # noqa: F811
) -> Iterator[Models]:
    yield Models(silero, smart_turn, whisper_asr, text_eou)


def test_mid_sentence_pauses_are_not_cut_and_finished_questions_end_early(
    clips: list[Clip], models: Models
) -> None:
    config = EndpointerConfig(rules=TURN_RULES)
    cut_off = []
    for clip in clips:
        case = cut_case(clip, PAUSE_MS)
        outcome = run_case(case, models, config, instant=True)
        assert outcome is not None, case.name
        cut_off.append(outcome.end_t < case.speech_end_s)
    quick = []
    for clip in clips:
        case = complete_case(clip)
        outcome = run_case(case, models, config, instant=True)
        assert outcome is not None, case.name
        assert outcome.end_t >= case.speech_end_s - 0.05, case.name  # never before the end
        # Ended by the models, well before the 800 ms the silence alone would take.
        quick.append(
            outcome.reason is EndReason.TURN_MODEL and outcome.end_t - case.speech_end_s < 0.6
        )
    assert sum(cut_off) <= 2, cut_off  # 700 ms pauses: at most 2 of 8 cut
    assert sum(quick) >= 6, quick
