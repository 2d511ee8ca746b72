"""Speculation (session/speculation.py): the reply starts at the user's first pause; a right
guess is the reply, a wrong one never reaches the client or history.

The session is real; the VAD hears energy, the end-of-turn model is unsure (so turns end on
silence, well after the pause), the voice takes no time.
"""

from __future__ import annotations

import numpy as np

from openlive.session import SpeechServices

from .session_fakes import Bench, InlineExecutor, ScriptedASR, ScriptedLLM, WordTTS
from .test_barge_in import AUTO_AUDIO_SETUP, EnergyVAD, sound


class UnsureTurn:
    def predict(self, audio: np.ndarray) -> float:
        return 0.3


def services(asr: ScriptedASR, tts: WordTTS) -> SpeechServices:
    executor = InlineExecutor()
    return SpeechServices(
        vad=EnergyVAD(),
        turn=UnsureTurn(),
        asr=asr,
        tts=tts,
        fast_tts=None,
        asr_executor=executor,
        tts_executor=executor,
    )


async def test_a_right_guess_is_the_reply_and_its_first_clause_is_made_before_the_turn_ends():
    asr = ScriptedASR("what time is it")  # the pause's guess, and the turn's final text
    tts = WordTTS()
    llm = ScriptedLLM(["It is", " noon, more or less."])
    async with Bench(AUTO_AUDIO_SETUP, llm, speech=services(asr, tts)) as bench:
        await sound(bench, 0.5, loud=True)
        await sound(bench, 0.4, loud=False)  # past the pause: the guess runs; no turn yet
        assert len(llm.requests) == 1
        assert tts.spoken == ["It is noon, more or"]  # the first clause, synthesised ahead
        assert "audio" not in bench.kinds()  # nothing speculative is sent
        assert bench.history() == []
        await sound(bench, 0.6, loud=False)  # 800 ms of silence: the turn ends
        await sound(bench, 4.0, loud=False)
        assert len(llm.requests) == 1  # the guess was the reply: no second request
        assert tts.spoken == ["It is noon, more or", "less."]  # its clause was not made twice
        assert bench.session.speculation.hits == 1
        assert bench.history() == [
            ("user", "what time is it"),
            ("assistant", "It is noon, more or less."),
        ]


async def test_when_the_user_goes_on_the_guess_is_thrown_away_unheard():
    asr = ScriptedASR("what is", "what is the time in Paris")
    tts = WordTTS()
    llm = ScriptedLLM(["A guess that nobody hears."], ["It is noon in Paris."])
    async with Bench(AUTO_AUDIO_SETUP, llm, speech=services(asr, tts)) as bench:
        await sound(bench, 0.5, loud=True)
        await sound(bench, 0.4, loud=False)  # a pause mid-sentence: a guess starts
        assert len(llm.requests) == 1
        await sound(bench, 0.6, loud=True)  # the user goes on
        await sound(bench, 1.0, loud=False)
        await sound(bench, 4.0, loud=False)
        assert [r.messages[-1]["content"] for r in llm.requests] == [
            "what is",
            "what is the time in Paris",
        ]
        assert "guess" not in " ".join(text for _, text in bench.history())
        assert bench.history() == [
            ("user", "what is the time in Paris"),
            ("assistant", "It is noon in Paris."),
        ]
        # The second pause guessed the whole question: that guess was the reply.
        assert bench.session.speculation.hits == 1
