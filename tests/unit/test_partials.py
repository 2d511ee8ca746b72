"""Partial transcripts of a long utterance cost what those of a short one do: the head past
``PARTIAL_SPAN_S`` is cut at its quietest moment and recognised once, for good (docs/limits.md).

The ASR is scripted so that its text says what audio it was given: each second of "speech" has
its own loudness, a word, and seconds are parted by 100 ms of near silence (still speech to the
VAD, as a breath is), where a cut splits no word.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from openlive.audio.pcm import INPUT_RATE
from openlive.session.listener import PARTIAL_SPAN_S

from .session_fakes import HeardText
from .test_listener_words import listener_for

SECONDS = 70  # three and a half spans
GAP = INPUT_RATE // 10


def second_of_speech(index: int) -> np.ndarray:
    """Word ``index``: 0.9 s at a loudness of its own, then 0.1 s of a breath."""
    word = np.full(INPUT_RATE - GAP, 0.2 + index / 1000, dtype=np.float32)
    return np.concatenate([word, np.full(GAP, 0.001, dtype=np.float32)])


class LoudnessASR:
    """Recognises one word per loud run of samples, named by its loudness; records what each
    call was given."""

    def __init__(self) -> None:
        self.seconds_asked: list[float] = []

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> HeardText:
        self.seconds_asked.append(len(audio) / INPUT_RATE)
        loud = np.round((audio[audio > 0.1] - 0.2) * 1000).astype(int)
        words = [f"w{value}" for i, value in enumerate(loud) if i == 0 or value != loud[i - 1]]
        return HeardText(" ".join(words))


async def test_partials_of_a_long_utterance_read_one_span_and_keep_every_word_in_order() -> None:
    asr = LoudnessASR()
    pieces: list[str] = []
    listener = listener_for(asr=asr, on_transcript=lambda text, finished: pieces.append(text))
    for index in range(SECONDS):
        pcm = (second_of_speech(index) * 32767).astype("<i2").tobytes()
        await listener.feed(pcm, "audio/pcm;rate=16000")
        for _ in range(5):  # let the inline partial runs finish
            await asyncio.sleep(0)
    await listener.aclose()

    assert len(asr.seconds_asked) >= SECONDS // 3  # partials all along
    # No call reads more than one span, however long the utterance grew.
    assert max(asr.seconds_asked) <= PARTIAL_SPAN_S
    # What was sent is the utterance's words in order, none twice, none skipped, and the
    # partials went on past every cut to near the end.
    heard = " ".join(pieces).split()
    assert heard == [f"w{index}" for index in range(len(heard))]
    assert len(heard) >= SECONDS - 3
