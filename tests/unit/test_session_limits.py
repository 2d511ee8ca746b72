"""What one session may hold (docs/limits.md), on the bench of session_fakes: audio per turn,
function calls left unanswered, and recognition jobs of a session that has gone away."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from openlive.engines.asr import WhisperASR
from openlive.protocol.errors import ProtocolError
from openlive.session import SpeechServices

from .session_fakes import (
    AUDIO_SETUP,
    BACKGROUND,
    LOOKUP,
    TEXT_SETUP,
    Bench,
    Call,
    HeardText,
    ScriptedASR,
    ScriptedLLM,
    WordTTS,
    settle,
    speech_services,
    with_tools,
)
from .test_barge_in import AUTO_AUDIO_SETUP, sound
from .test_barge_in import services as vad_services


def pcm_blob(seconds: float) -> dict:
    data = base64.b64encode(bytes(int(seconds * 16000) * 2)).decode()
    return {"realtimeInput": {"audio": {"data": data, "mimeType": "audio/pcm;rate=16000"}}}


# -- audio per turn ---------------------------------------------------------------------------


async def test_a_manual_turn_past_its_audio_bound_closes_1008_before_keeping_it():
    speech = dataclasses.replace(speech_services(asr=ScriptedASR("fits")), max_turn_audio_s=2.0)
    async with Bench(AUDIO_SETUP, ScriptedLLM(["Yes."]), speech=speech) as bench:
        await bench.send({"realtimeInput": {"activityStart": {}}})
        for _ in range(4):
            await bench.send(pcm_blob(0.5))  # 2.0 s: exactly the bound
        await bench.send({"realtimeInput": {"activityEnd": {}}})
        assert bench.history()[0] == ("user", "fits")
        await bench.send({"realtimeInput": {"activityStart": {}}})  # a new turn counts afresh
        await bench.send(pcm_blob(1.5))
        with pytest.raises(ProtocolError) as raised:
            await bench.send(pcm_blob(0.6))
        listener = bench.session.listener
        assert listener is not None and listener._manual_samples == 24_000  # not kept
    assert raised.value.code == 1008
    assert raised.value.reason == "More than 2 s of audio between activityStart and activityEnd."
    assert len(raised.value.reason.encode()) <= 123


async def test_automatic_detection_ends_a_turn_that_never_pauses_at_the_bound():
    asr = ScriptedASR("a very long turn", "wait, there is more")
    speech = dataclasses.replace(vad_services(asr), max_turn_audio_s=1.0)
    async with Bench(AUTO_AUDIO_SETUP, ScriptedLLM(["Heard you."]), speech=speech) as bench:
        await sound(bench, 1.5, loud=True)  # no pause: the bound ends the turn, not the silence
        assert bench.closed is None
        assert bench.history()[0] == ("user", "a very long turn")
        await sound(bench, 1.0, loud=False)
        # The speech went on past the bound: a new utterance, here over the reply, cutting it.
        assert ("user", "wait, there is more") in bench.history()


# -- function calls left unanswered -----------------------------------------------------------


def call_ids(message: dict) -> list[str]:
    return [call["id"] for call in message["toolCall"]["functionCalls"]]


async def test_past_the_pending_bound_the_oldest_unanswered_call_is_cancelled():
    # A client that treats NON_BLOCKING calls as fire and forget: it never answers them.
    llm = ScriptedLLM(*([Call("remind", {"n": n})] for n in range(3)), ["Still here."])
    tools = with_tools(TEXT_SETUP, BACKGROUND)
    async with Bench(tools, llm, max_pending_calls=2) as bench:
        for n in range(3):
            await bench.say(f"remind me {n}")
        first, second, third = (call_ids(m) for m in bench.received if "toolCall" in m)
        # The cancellation comes before the toolCall that needed the room.
        assert bench.kinds()[-4:] == [
            *("toolCallCancellation", "toolCall", "generationComplete", "turnComplete")
        ]
        (cancellation,) = [m for m in bench.received if "toolCallCancellation" in m]
        assert cancellation["toolCallCancellation"]["ids"] == first
        assert len(bench.session.pending) == 2
        # A late answer to the evicted call crossed the cancellation: dropped, not 1007.
        late = {"id": first[0], "name": "remind", "response": {"ok": True}}
        await bench.send({"toolResponse": {"functionResponses": [late]}})
        assert bench.closed is None
        await bench.say("are you there?")
        assert bench.text().endswith("Still here.")
        assert bench.session.pending.find(second[0], "remind") is not None
        assert bench.session.pending.find(third[0], "remind") is not None


async def test_a_step_asking_for_more_calls_than_the_bound_makes_only_the_first():
    calls = [Call("lookup", {"n": n}) for n in range(5)]
    llm = ScriptedLLM(calls, ["Done."])
    async with Bench(with_tools(TEXT_SETUP, LOOKUP), llm, max_pending_calls=3) as bench:
        await bench.say("look up five things")
        (message,) = [m for m in bench.received if "toolCall" in m]
        made = message["toolCall"]["functionCalls"]
        assert [call["args"]["n"] for call in made] == [0, 1, 2]
        assert len(bench.session.pending) == 3
        responses = [
            {"id": call["id"], "name": "lookup", "response": {"n": call["args"]["n"]}}
            for call in made
        ]
        await bench.send({"toolResponse": {"functionResponses": responses}})
        assert bench.text() == "Done."
        assert len(bench.session.pending) == 0


async def test_an_evicted_call_owed_from_before_a_resume_is_answered_in_history():
    tools = with_tools(TEXT_SETUP, LOOKUP)
    async with Bench(tools, ScriptedLLM([Call("lookup", {"q": "old"})])) as bench:
        await bench.say("look it up")  # the client leaves; the call is owed
        snapshot = bench.session.snapshot()
    (owed,) = snapshot["pending_calls"]
    llm = ScriptedLLM([Call("lookup", {"q": "new"})])
    async with Bench(tools, llm, restored=snapshot, max_pending_calls=1) as resumed:
        await resumed.say("look up something else")
        assert resumed.kinds()[:2] == ["toolCallCancellation", "toolCall"]
        (cancellation,) = [m for m in resumed.received if "toolCallCancellation" in m]
        assert cancellation["toolCallCancellation"]["ids"] == [owed["id"]]
        results = [
            entry for entry in resumed.session.conversation.entries if entry["role"] == "tool"
        ]
        assert [entry["tool_call_id"] for entry in results] == [owed["id"]]
        assert "too many calls" in results[0]["content"]


# -- recognition jobs of a session that went away ---------------------------------------------


class GatedASR:
    """Counts the jobs that ran; each waits for ``go`` and reports whether it was cancelled."""

    def __init__(self) -> None:
        self.ran = 0
        self.started = threading.Event()
        self.go = threading.Event()
        self.saw_cancel: list[bool] = []

    def transcribe(
        self, audio: np.ndarray, language: str | None = None, *, cancelled: Callable[[], bool]
    ) -> HeardText:
        self.ran += 1
        self.started.set()
        self.go.wait(10)
        self.saw_cancel.append(cancelled())
        return HeardText("too late")


async def manual_turn(pool: ThreadPoolExecutor, asr: GatedASR) -> Bench:
    speech = SpeechServices(
        vad=None,
        turn=None,
        asr=asr,
        tts=WordTTS(),
        fast_tts=None,
        asr_executor=pool,
        tts_executor=pool,
    )
    bench = await Bench(AUDIO_SETUP, ScriptedLLM(["Hi."]), speech=speech).__aenter__()
    await bench.send({"realtimeInput": {"activityStart": {}}})
    await bench.send(pcm_blob(1.0))
    await bench.send({"realtimeInput": {"activityEnd": {}}})  # its recognition is submitted
    return bench


async def test_a_closed_sessions_queued_recognition_never_runs():
    pool = ThreadPoolExecutor(max_workers=1)
    busy = threading.Event()
    pool.submit(busy.wait, 10)  # another session's job holds the only worker
    asr = GatedASR()
    asr.go.set()
    bench = await manual_turn(pool, asr)
    await settle()
    assert pool._work_queue.qsize() == 1  # queued behind the busy worker
    await bench.session.aclose()
    bench.pause_writer()
    busy.set()
    await asyncio.to_thread(pool.shutdown, True)  # every queued job has run or been dropped
    assert asr.ran == 0
    assert bench.history() == []


async def test_a_closed_sessions_running_recognition_is_told_to_stop_and_its_words_unused():
    pool = ThreadPoolExecutor(max_workers=1)
    asr = GatedASR()
    bench = await manual_turn(pool, asr)
    assert await asyncio.to_thread(asr.started.wait, 10)
    await bench.session.aclose()
    bench.pause_writer()
    asr.go.set()
    await asyncio.to_thread(pool.shutdown, True)
    await settle()
    assert asr.saw_cancel == [True]
    assert bench.history() == []  # "too late" never became a turn


def test_whisper_stops_between_windows_once_cancelled():
    asr = WhisperASR("/nonexistent")
    asr._model = SimpleNamespace(supported_languages=["en"])  # type: ignore[assignment]
    decoded: list[int] = []

    def window(model: object, audio: np.ndarray, language: str | None) -> tuple[str, str]:
        decoded.append(len(audio))
        return f"window {len(decoded)}", "en"

    asr._transcribe_window = window  # type: ignore[method-assign]
    audio = np.zeros(16000 * 100, dtype=np.float32)  # four windows of at most 30 s
    assert asr.transcribe(audio, "en").text.count("window") == 4
    decoded.clear()
    text = asr.transcribe(audio, "en", cancelled=lambda: len(decoded) >= 1).text
    assert (decoded, text) == ([decoded[0]], "window 1")
