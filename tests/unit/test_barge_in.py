"""Barge-in in two steps (session/listener.py): the first sound over a reply pauses it at once,
speech that goes on cuts it, and a sound that stops short (or says only "mm-hm") lets it play on
from where it stopped.

The session is real (listener, endpointer, turn rules, speech output); the VAD hears any frame
with energy as speech, the clock moves by hand in step with the audio fed, the voice takes no
time (session_fakes.WordTTS: half a second per word).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from openlive.audio.pcm import OUTPUT_RATE
from openlive.engines.llm import ChatDelta
from openlive.session import SpeechServices

from .session_fakes import WORD_S, Bench, InlineExecutor, ScriptedASR, ScriptedLLM, WordTTS

FRAME_S = 0.032  # the endpointer's frame: 512 samples at 16 kHz
REPLY = "One two three four five six seven eight."

AUTO_AUDIO_SETUP = {
    "model": "models/m",
    "generationConfig": {"responseModalities": ["AUDIO"]},
    "outputAudioTranscription": {},
}


class EnergyStream:
    def process(self, frame: np.ndarray) -> float:
        return 1.0 if float(np.abs(frame).mean()) > 0.01 else 0.0


class EnergyVAD:
    def new_stream(self) -> EnergyStream:
        return EnergyStream()


class CompleteTurn:
    """The end-of-turn model: every pause ends the turn."""

    def predict(self, audio: np.ndarray) -> float:
        return 1.0


def services(asr: ScriptedASR) -> SpeechServices:
    executor = InlineExecutor()
    return SpeechServices(
        vad=EnergyVAD(),
        turn=CompleteTurn(),
        asr=asr,
        tts=WordTTS(),
        fast_tts=None,
        asr_executor=executor,
        tts_executor=executor,
    )


async def sound(bench: Bench, seconds: float, *, loud: bool) -> None:
    """The microphone, in real time: one 32 ms frame at a time, the clock in step."""
    frame = np.full(512, 3000 if loud else 0, dtype="<i2").tobytes()
    data = base64.b64encode(frame).decode()
    for _ in range(round(seconds / FRAME_S)):
        blob = {"data": data, "mimeType": "audio/pcm;rate=16000"}
        await bench.send({"realtimeInput": {"audio": blob}})
        await bench.clock.advance(FRAME_S)


def audio_seconds(messages: list[dict[str, Any]]) -> float:
    total = 0
    for message in messages:
        for part in message.get("serverContent", {}).get("modelTurn", {}).get("parts", []):
            if "inlineData" in part:
                total += len(base64.b64decode(part["inlineData"]["data"])) // 2
    return total / OUTPUT_RATE


async def playing_reply(bench: Bench) -> None:
    """Ask (a spoken question), then let the reply play for a second."""
    await sound(bench, 0.5, loud=True)
    await sound(bench, 0.3, loud=False)  # the pause ends the turn: the model answers
    assert "audio" in bench.kinds()
    await sound(bench, 1.0, loud=False)


async def test_the_first_tenth_of_a_second_over_the_reply_pauses_it():
    asr = ScriptedASR("count to eight", "stop please")
    async with Bench(
        AUTO_AUDIO_SETUP, ScriptedLLM([REPLY], ["Stopped."]), speech=services(asr)
    ) as bench:
        await playing_reply(bench)
        await sound(bench, 0.064, loud=True)
        assert "interrupted" not in bench.kinds()
        await sound(bench, 0.064, loud=True)  # 128 ms: past the 96 ms onset
        assert bench.kinds().count("interrupted") == 1
        assert "turnComplete" not in bench.kinds()  # paused, not cut, until it is speech


class LateSecondClause(ScriptedLLM):
    """Writes "One two." at once and the rest three seconds later on the session's clock: the
    first clause plays out and the listener waits for the next (a gap inside the reply)."""

    clock: Any = None

    async def stream(self, request: Any) -> Any:
        self.requests.append(request)
        yield ChatDelta(text="One two.\n")  # a line break ends the clause at once
        await self.clock.sleep(3.0)
        yield ChatDelta(text="Three four five six.")


async def test_sound_while_the_reply_waits_for_its_next_clause_pauses_it():
    asr = ScriptedASR("count to six", "stop please")
    llm = LateSecondClause()
    async with Bench(AUTO_AUDIO_SETUP, llm, speech=services(asr)) as bench:
        llm.clock = bench.clock
        await sound(bench, 0.5, loud=True)
        await sound(bench, 0.3, loud=False)  # the turn ends: "One two." (1 s) plays
        assert "audio" in bench.kinds()
        await sound(bench, 1.5, loud=False)  # played out; the rest is not written yet
        await sound(bench, 0.128, loud=True)  # past the 96 ms onset, short of speech (224 ms)
        assert bench.kinds().count("interrupted") == 1
        await sound(bench, 4.0, loud=False)  # a cough: the rest is spoken when it is written
        assert bench.kinds().count("turnComplete") == 1
        assert bench.history() == [
            ("user", "count to six"),
            ("assistant", "One two.\nThree four five six."),  # the model's own text
        ]


async def test_speech_that_goes_on_cuts_the_reply_where_playback_stopped():
    asr = ScriptedASR("count to eight", "stop please")
    async with Bench(
        AUTO_AUDIO_SETUP, ScriptedLLM([REPLY], ["Stopped."]), speech=services(asr)
    ) as bench:
        await playing_reply(bench)
        await sound(bench, 0.8, loud=True)  # longer than any "mm-hm": a turn, whatever it says
        kinds = bench.kinds()
        assert kinds.count("interrupted") == 1  # the pause told the client; the cut does not repeat
        assert kinds[kinds.index("interrupted") + 1] == "turnComplete"
        await sound(bench, 2.0, loud=False)  # the user's turn ends: it is answered, played
        history = bench.history()
        assert history[0] == ("user", "count to eight")
        # About 1.1 s of the reply was played before the pause: two words, the third begun.
        assert history[1] == ("assistant", "One two")
        assert history[2:] == [("user", "stop please"), ("assistant", "Stopped.")]


async def test_a_cough_pauses_the_reply_and_it_resumes_with_the_unheard_rest():
    asr = ScriptedASR("count to eight")
    async with Bench(AUTO_AUDIO_SETUP, ScriptedLLM([REPLY]), speech=services(asr)) as bench:
        await playing_reply(bench)
        sent_before = audio_seconds(bench.received)
        played_before_pause = 1.0 + 0.128
        await sound(bench, 0.128, loud=True)  # a cough
        paused_at = len(bench.received)
        assert bench.kinds().count("interrupted") == 1
        await sound(bench, 1.2, loud=False)  # it stops; the endpointer's utterance ends too
        resent = audio_seconds(bench.received[paused_at:])
        assert sent_before == 8 * WORD_S
        # What the client flushed, from where it stopped: the reply minus what was heard.
        assert abs(resent - (sent_before - played_before_pause)) < 0.1
        await sound(bench, 8.0, loud=False)
        assert bench.kinds()[-1] == "turnComplete"
        assert bench.kinds().count("turnComplete") == 1
        # The whole reply was heard in the end, and the cough was no turn of its own.
        assert bench.history() == [("user", "count to eight"), ("assistant", REPLY)]


async def test_speech_after_the_reply_has_played_is_an_ordinary_turn():
    asr = ScriptedASR("count to eight", "thanks")
    llm = ScriptedLLM([REPLY], ["You're welcome."])
    async with Bench(AUTO_AUDIO_SETUP, llm, speech=services(asr)) as bench:
        await playing_reply(bench)
        await sound(bench, 4.0, loud=False)  # the reply plays out
        assert bench.kinds().count("turnComplete") == 1
        await sound(bench, 0.3, loud=True)  # a short word, after the reply
        await sound(bench, 2.0, loud=False)
        assert "interrupted" not in bench.kinds()
        assert bench.history()[-2:] == [("user", "thanks"), ("assistant", "You're welcome.")]


async def test_a_short_mm_hm_resumes_the_reply_and_is_no_turn():
    asr = ScriptedASR("count to eight", "Mm-hmm.")
    async with Bench(AUTO_AUDIO_SETUP, ScriptedLLM([REPLY]), speech=services(asr)) as bench:
        await playing_reply(bench)
        await sound(bench, 0.4, loud=True)  # speech, but short: its words decide
        assert bench.kinds().count("interrupted") == 1
        await sound(bench, 1.0, loud=False)  # the utterance ends: "Mm-hmm." is a backchannel
        await sound(bench, 8.0, loud=False)
        assert bench.kinds().count("turnComplete") == 1
        assert bench.history() == [("user", "count to eight"), ("assistant", REPLY)]


async def test_a_short_stop_cuts_the_reply_where_it_was_paused():
    asr = ScriptedASR("count to eight", "Stop.")
    llm = ScriptedLLM([REPLY], ["Okay."])
    async with Bench(AUTO_AUDIO_SETUP, llm, speech=services(asr)) as bench:
        await playing_reply(bench)
        await sound(bench, 0.4, loud=True)
        await sound(bench, 3.0, loud=False)
        kinds = bench.kinds()
        assert kinds.count("interrupted") == 1
        assert bench.history() == [
            ("user", "count to eight"),
            ("assistant", "One two"),  # what played before the pause, not before the word ended
            ("user", "Stop."),
            ("assistant", "Okay."),
        ]
