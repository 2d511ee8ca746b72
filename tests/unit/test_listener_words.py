"""The listener hands the words' end-of-turn signal to the endpointer: the candidate's
speculative transcript and the session's conversation go to the signal, its answer decides.

Scripted parts: a VAD that hears any non-zero frame as speech, a turn model and a words signal
with fixed answers, an ASR with a fixed transcript, all run inline, so the audio clock alone
says when the turn ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from openlive.audio.pcm import INPUT_RATE
from openlive.session.clock import MONOTONIC, Clock
from openlive.session.config import SessionConfig
from openlive.session.listener import Listener
from openlive.session.services import SpeechServices
from openlive.session.trace import TurnTrace

from .session_fakes import InlineExecutor, ScriptedASR, WordTTS

HISTORY = [{"role": "system", "content": "Be brief."}]


class LoudIsSpeech:
    def new_stream(self) -> LoudIsSpeech:
        return self

    def process(self, frame: np.ndarray) -> float:
        return 0.9 if np.abs(frame).max() > 0 else 0.0


class FixedTurn:
    def __init__(self, p: float) -> None:
        self.p = p

    def predict(self, audio: np.ndarray) -> float:
        return self.p


class FixedWords:
    def __init__(self, p: float) -> None:
        self.p = p
        self.asked: list[tuple[list[dict[str, Any]], str]] = []
        self.prefilled: list[str] = []  # the words so far, prefilled while the user talks

    def probability(self, history: list[dict[str, Any]], text: str) -> float:
        self.asked.append((history, text))
        return self.p

    def prefill(self, history: list[dict[str, Any]], text: str) -> None:
        self.prefilled.append(text)


def listener_for(
    clock: Clock = MONOTONIC,
    *,
    voice: float = 0.8,
    words: FixedWords | None = None,
    detection: Any = None,
    on_user_turn: Callable[[str, TurnTrace], Awaitable[None]] | None = None,
    vad: Any = None,
    pace: float = 0.0,
    burst_s: float = 20.0,
    asr: Any = None,
    on_transcript: Callable[[str, bool], None] | None = None,
    on_guess: Callable[[str], Awaitable[None]] | None = None,
    reply_idle: Callable[[], bool] = lambda: True,
) -> Listener:
    """A listener on scripted parts, every worker inline; ``on_transcript`` asks for partial and
    final input transcripts."""
    executor = InlineExecutor()
    speech = SpeechServices(
        vad=vad or LoudIsSpeech(),
        turn=FixedTurn(voice),
        asr=asr
        or ScriptedASR("what is the tallest mountain in", "what is the tallest mountain in"),
        tts=WordTTS(),
        fast_tts=None,
        asr_executor=executor,
        tts_executor=executor,
        coalesce_ms=0,
        text_turn=words,
        audio_pace=pace,
        audio_burst_s=burst_s,
    )
    config = SessionConfig(
        modality="AUDIO",
        voice="Puck",
        language="en",
        automatic_activity_detection=True,
        detection=detection,
        handling=None,  # type: ignore[arg-type]
        turn_coverage="",
        input_transcription=on_transcript is not None,
        output_transcription=False,
    )

    async def nothing() -> None:
        return None

    async def no_turn(text: str, trace: TurnTrace) -> None:
        return None

    return Listener(
        speech,
        config,
        on_speech_started=nothing,
        on_speech_suspected=nothing,
        on_speech_cleared=nothing,
        on_transcript=on_transcript or (lambda text, finished: None),
        on_guess=on_guess,
        on_user_turn=on_user_turn or no_turn,
        model_is_audible=lambda: False,
        recent_speech=lambda: "",
        conversation=lambda: list(HISTORY),
        reply_idle=reply_idle,
        clock=clock,
    )


async def turn_end_s(
    voice: float,
    words: FixedWords | None,
    detection: Any = None,
    on_guess: Callable[[str], Awaitable[None]] | None = None,
) -> float:
    """Seconds of silence after the speech when the listener handed the turn on."""
    fed = 0.0
    ended: list[float] = []

    async def on_user_turn(text: str, trace: TurnTrace) -> None:
        ended.append(fed)

    listener = listener_for(
        voice=voice,
        words=words,
        detection=detection,
        on_user_turn=on_user_turn,
        on_guess=on_guess,
    )
    speech_pcm = (np.full(INPUT_RATE, 3000, dtype="<i2")).tobytes()  # 1 s of "speech"
    await listener.feed(speech_pcm, "audio/pcm;rate=16000")
    chunk = bytes(2 * 512)  # one frame of silence at a time
    while not ended and fed < 3.0:
        await listener.feed(chunk, "audio/pcm;rate=16000")
        fed += 512 / INPUT_RATE
        for _ in range(5):  # let the inline workers' results reach the endpointer
            await asyncio.sleep(0)
    await listener.aclose()
    assert ended, "the turn never ended"
    return ended[0]


async def test_unfinished_words_hold_the_turn_that_the_voice_would_end() -> None:
    words = FixedWords(0.01)
    held = await turn_end_s(voice=0.8, words=words)
    assert 1.5 < held < 1.7  # the 1.6 s hold, not the 800 ms silence
    ((history, text),) = words.asked
    assert history == HISTORY and text == "what is the tallest mountain in"


async def test_finished_words_end_the_turn_at_the_candidate() -> None:
    assert await turn_end_s(voice=0.8, words=FixedWords(0.6)) < 0.3


async def test_without_the_words_the_voice_alone_decides_as_before() -> None:
    assert await turn_end_s(voice=0.8, words=None) < 0.3
    assert 0.75 < await turn_end_s(voice=0.3, words=None) < 0.85


async def test_the_clients_silence_duration_caps_the_hold() -> None:
    detection = SimpleNamespace(silence_duration_ms=500)
    assert 0.45 < await turn_end_s(voice=0.8, words=FixedWords(0.01), detection=detection) < 0.55


async def test_a_sure_voice_ends_at_the_shortest_pause_and_the_words_are_not_asked() -> None:
    """The voice answers at the candidate (96 ms), before a turn may end (224 ms): the words'
    request would only compete with the reply's prefill, so it is never made."""
    words = FixedWords(0.01)  # unfinished: asked, it would hold the turn
    ended = await turn_end_s(voice=0.99, words=words)
    assert 0.2 < ended < 0.26
    assert words.asked == []


async def test_a_guess_waits_for_the_words_it_would_slow() -> None:
    """The speculative reply (a prefill on the LLM) starts only once the words' signal of that
    pause has answered: the turn's end waits on the words, the guess would only slow them."""
    words = FixedWords(0.5)  # maybe: the turn holds the usual silence, long enough to guess
    asked_at_guess: list[int] = []

    async def on_guess(text: str) -> None:
        asked_at_guess.append(len(words.asked))

    await turn_end_s(voice=0.8, words=words, on_guess=on_guess)
    assert asked_at_guess == [1]
    # Without the words (an openai: LLM), the guess goes ahead once its transcript is in.
    guesses: list[str] = []

    async def guess_alone(text: str) -> None:
        guesses.append(text)

    await turn_end_s(voice=0.3, words=None, on_guess=guess_alone)
    assert guesses == ["what is the tallest mountain in"]


class CountingASR:
    """Each call hears one more word of the question, and is counted."""

    WORDS = ("what", "is", "the", "tallest", "mountain", "in", "the", "world")

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, audio: np.ndarray, language: str | None = None, **_: Any) -> Any:
        self.calls += 1
        return SimpleNamespace(text=" ".join(self.WORDS[: self.calls + 2]), language="en")


async def speak_and_pause(listener: Listener, seconds: float, ended: list[str]) -> None:
    """``seconds`` of speech in 100 ms blobs, as a microphone sends it, then silence until the
    turn is handed on."""
    blob = np.full(INPUT_RATE // 10, 3000, dtype="<i2").tobytes()
    for _ in range(int(seconds * 10)):
        await listener.feed(blob, "audio/pcm;rate=16000")
        await asyncio.sleep(0.01)  # the prefill's worker thread
    silence = bytes(2 * 512)
    for _ in range(100):
        if ended:
            break
        await listener.feed(silence, "audio/pcm;rate=16000")
        await asyncio.sleep(0)
    await listener.aclose()


async def test_the_words_so_far_are_prefilled_while_the_user_talks() -> None:
    """Partials run without the client asking for transcripts: each one's words are prefilled
    on the LLM before the pause, so the pause's signal and reply prefill only the rest."""
    words, asr = FixedWords(0.6), CountingASR()
    ended: list[str] = []
    prefilled_by_the_end: list[str] = []

    async def on_user_turn(text: str, trace: TurnTrace) -> None:
        ended.append(text)
        prefilled_by_the_end.extend(words.prefilled)

    listener = listener_for(words=words, asr=asr, on_user_turn=on_user_turn)
    await speak_and_pause(listener, 3.5, ended)
    assert ended == [" ".join(CountingASR.WORDS[: asr.calls + 2])]
    assert len(prefilled_by_the_end) >= 2  # about one a second of speech
    assert prefilled_by_the_end[0] == "what is the"  # the first partial's words
    assert all(text.startswith("what is the") for text in prefilled_by_the_end)


async def test_nothing_is_prefilled_while_a_reply_holds_the_llm_or_without_the_words() -> None:
    for words, idle in ((FixedWords(0.6), False), (None, True)):
        asr = CountingASR()
        ended: list[str] = []

        async def on_user_turn(text: str, trace: TurnTrace, ended: list[str] = ended) -> None:
            ended.append(text)

        listener = listener_for(
            words=words, asr=asr, on_user_turn=on_user_turn, reply_idle=lambda idle=idle: idle
        )
        await speak_and_pause(listener, 3.5, ended)
        assert ended
        assert asr.calls == 1  # the pause's own recognition: no partial nobody asked for
        assert words is None or words.prefilled == []


async def test_partials_for_the_prefill_alone_wait_for_an_idle_recognition_pool() -> None:
    """Another session's transcript on the shared pool: no partial is run for a head start."""
    words, asr = FixedWords(0.6), CountingASR()
    ended: list[str] = []

    async def on_user_turn(text: str, trace: TurnTrace) -> None:
        ended.append(text)

    listener = listener_for(words=words, asr=asr, on_user_turn=on_user_turn)
    listener.speech.asr_load.jobs += 1  # someone else's job, submitted and not done
    await speak_and_pause(listener, 3.5, ended)
    assert ended and asr.calls == 1 and words.prefilled == []
    assert listener.speech.asr_load.jobs == 1  # our own job came and went
