"""When the quality voice hands a reply to the fast voice: a clause after the first that took
longer to make than to play. The first clause never decides it (speech_out.py)."""

from __future__ import annotations

import numpy as np

from .session_fakes import WORD_S, FakeClock, WordTTS, model_pieces, speech_output


class TimedWords(WordTTS):
    """WordTTS whose synthesis takes ``factor`` times the audio it makes on the fake clock
    (a real-time factor per clause, in the order they are asked for)."""

    def __init__(self, clock: FakeClock, factors: list[float]) -> None:
        super().__init__()
        self.clock = clock
        self.factors = factors

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        audio = super().synthesize(text, voice=voice, language=language)
        factor = self.factors[min(len(self.spoken), len(self.factors)) - 1]
        self.clock._now += factor * len(text.split()) * WORD_S
        return audio


REPLY = ("Hello there my friend. ", "How are you today? ", "I am fine, thanks.")


async def test_a_first_clause_slower_than_its_audio_keeps_the_voice() -> None:
    clock = FakeClock()
    quality, fast = TimedWords(clock, [1.3, 0.5]), WordTTS()
    output = speech_output(quality, fast, clock=clock)
    await output.deliver(model_pieces(*REPLY))

    assert not output.fell_back
    assert fast.spoken == []
    assert quality.spoken == ["Hello there my friend.", "How are you today?", "I am fine, thanks."]


async def test_a_later_clause_slower_than_its_audio_hands_the_rest_to_the_fast_voice() -> None:
    clock = FakeClock()
    quality, fast = TimedWords(clock, [0.5, 1.3]), WordTTS()
    output = speech_output(quality, fast, clock=clock)
    await output.deliver(model_pieces(*REPLY))

    assert output.fell_back
    assert quality.spoken == ["Hello there my friend.", "How are you today?"]
    assert fast.spoken == ["I am fine, thanks."]
    assert output.spoken_text() == "Hello there my friend. How are you today? I am fine, thanks."
