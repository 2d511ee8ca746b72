"""A session's turns, told as the client sees them: a fake clock, a scripted model, a quick voice.

Each test drives a real LiveSession with real client JSON and reads the server's JSON back, in
the order the writer sent it (session_fakes.Bench).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openlive.engines.llm import LLMError
from openlive.engines.llm.base import ChatDelta, ChatRequest
from openlive.engines.llm.slots import LLMSlots
from openlive.session.resumption import Resumption
from openlive.session.state import TurnState
from openlive.store.sqlite import SQLiteStore

from .session_fakes import (
    AUDIO_SETUP,
    BACKGROUND,
    LOOKUP,
    TEXT_SETUP,
    WORD_S,
    Bench,
    Call,
    Fail,
    Hang,
    ScriptedASR,
    ScriptedLLM,
    Step,
    Wait,
    WordTTS,
    settle,
    speech_services,
    with_tools,
)


def content_turn(text: str, *, turn_complete: bool = False) -> dict:
    turns = [{"role": "user", "parts": [{"text": text}]}]
    return {"clientContent": {"turns": turns, "turnComplete": turn_complete}}


def answer(bench: Bench, response: dict, **fields: object) -> dict:
    call = next(m for m in reversed(bench.received) if "toolCall" in m)["toolCall"]
    (function_call,) = call["functionCalls"]
    reply = {"id": function_call["id"], "name": function_call["name"], "response": response}
    return {"toolResponse": {"functionResponses": [{**reply, **fields}]}}


# -- turnComplete ---------------------------------------------------------------------------


async def test_a_text_turn_ends_with_generation_complete_then_one_turn_complete_with_usage():
    async with Bench(TEXT_SETUP, ScriptedLLM(["Hello", " there."])) as bench:
        await bench.say("hi")
        assert bench.kinds() == ["text", "text", "generationComplete", "turnComplete"]
        assert bench.received[-1]["usageMetadata"]["promptTokenCount"] == 20
        assert bench.text() == "Hello there."
        assert bench.history() == [("user", "hi"), ("assistant", "Hello there.")]
        assert bench.session.turn.state is TurnState.IDLE


async def test_an_audio_turn_completes_only_once_the_client_has_played_it():
    words = "One two three four five six."
    async with Bench(AUDIO_SETUP, ScriptedLLM([words]), speech=speech_services()) as bench:
        await bench.say("count")
        assert bench.kinds()[-1] == "generationComplete"
        assert "turnComplete" not in bench.kinds()
        playing = 6 * WORD_S
        await bench.clock.advance(playing - 0.1)
        assert "turnComplete" not in bench.kinds()
        await bench.clock.advance(0.2)
        assert bench.kinds()[-1] == "turnComplete"
        assert bench.count("turnComplete") == 1
        transcript = "".join(
            c["outputTranscription"]["text"] for c in bench.contents() if "outputTranscription" in c
        )
        assert transcript.split() == words.split()


# -- interruption ---------------------------------------------------------------------------


async def test_an_interrupt_drops_the_output_still_queued_and_history_keeps_only_what_was_sent():
    llm = ScriptedLLM(["First", " answer", Hang()], ["Second."])
    async with Bench(TEXT_SETUP, llm) as bench:
        bench.pause_writer()  # the socket is slow: the first reply waits in the outbox
        await bench.say("one")
        await bench.send(
            {"clientContent": {**content_turn("two")["clientContent"], "turnComplete": True}}
        )
        bench.resume_writer()
        await settle()
        assert bench.kinds() == [
            "interrupted",
            "turnComplete",
            "text",
            "generationComplete",
            "turnComplete",
        ]
        assert bench.text() == "Second."
        assert bench.history() == [("user", "one"), ("user", "two"), ("assistant", "Second.")]


async def test_barge_in_cuts_the_spoken_reply_where_the_user_stopped_hearing_it():
    llm = ScriptedLLM(["One two three four five six seven eight."])
    async with Bench(AUDIO_SETUP, llm, speech=speech_services()) as bench:
        await bench.say("count")
        await bench.clock.advance(2.2 * WORD_S)  # two words played, the third begun
        await bench.send({"realtimeInput": {"activityStart": {}}})
        assert bench.kinds()[-2:] == ["interrupted", "turnComplete"]
        assert bench.history() == [("user", "count"), ("assistant", "One two")]
        await bench.clock.advance(10)
        assert bench.count("turnComplete") == 1


async def test_no_interruption_answers_the_overlapping_turn_after_the_reply_in_history_order():
    setup = {**TEXT_SETUP, "realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}}
    gate = asyncio.Event()
    llm = ScriptedLLM(["Long", Wait(gate), " answer."], ["Second answer."])
    async with Bench(setup, llm) as bench:
        await bench.say("first")
        await bench.say("second")  # while the first reply is still being written
        assert "interrupted" not in bench.kinds()
        gate.set()
        await settle()
        assert bench.kinds() == [
            *["text", "text", "generationComplete", "turnComplete"],
            *["text", "generationComplete", "turnComplete"],
        ]
        assert bench.history() == [
            ("user", "first"),
            ("assistant", "Long answer."),
            ("user", "second"),
            ("assistant", "Second answer."),
        ]
        assert llm.requests[1].messages[-1]["content"] == "second"


async def test_with_interruptions_the_overlapping_turn_cuts_the_reply_instead():
    gate = asyncio.Event()
    llm = ScriptedLLM(["Long", Wait(gate), " answer."], ["Second answer."])
    async with Bench(TEXT_SETUP, llm) as bench:
        await bench.say("first")
        await bench.say("second")
        gate.set()
        await settle()
        assert bench.kinds()[:3] == ["text", "interrupted", "turnComplete"]
        assert bench.history() == [
            ("user", "first"),
            ("assistant", "Long"),
            ("user", "second"),
            ("assistant", "Second answer."),
        ]


# -- seeded history ---------------------------------------------------------------------------


async def test_seeded_history_is_kept_unanswered_and_the_next_input_is_answered_with_it():
    setup = {**TEXT_SETUP, "historyConfig": {"initialHistoryInClientContent": True}}
    async with Bench(setup, ScriptedLLM(["Blue."], ["Sure."])) as bench:
        model_turn = {"role": "model", "parts": [{"text": "Noted."}]}
        await bench.send(content_turn("My favourite colour is blue."))
        seed = content_turn("Remember that.", turn_complete=True)
        seed["clientContent"]["turns"].append(model_turn)
        await bench.send(seed)
        assert bench.kinds() == []  # the assistant does not speak unprompted
        assert bench.session.turn.state is TurnState.IDLE
        await bench.say("What is my favourite colour?")
        assert bench.kinds() == ["text", "generationComplete", "turnComplete"]
        assert bench.llm.requests[0].messages[1:] == [
            {"role": "user", "content": "My favourite colour is blue.\nRemember that."},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "What is my favourite colour?"},
        ]
        await bench.send(content_turn("And now?", turn_complete=True))  # seeding is over
        assert bench.count("turnComplete") == 2


async def test_without_history_config_a_complete_client_content_is_answered():
    async with Bench(TEXT_SETUP, ScriptedLLM(["Hi."])) as bench:
        await bench.send(content_turn("Hello", turn_complete=True))
        assert bench.kinds() == ["text", "generationComplete", "turnComplete"]


# -- clientContent parts ----------------------------------------------------------------------

PCM_HALF_SECOND = {
    "mimeType": "audio/pcm;rate=16000",
    "data": base64.b64encode(bytes(16000)).decode(),
}
PNG = {"mimeType": "image/png", "data": base64.b64encode(b"a picture").decode()}


def content_parts(*parts: dict, role: str = "user", turn_complete: bool = True) -> dict:
    turns = [{"role": role, "parts": list(parts)}]
    return {"clientContent": {"turns": turns, "turnComplete": turn_complete}}


async def test_function_call_and_response_parts_go_into_history_as_the_session_writes_them():
    async with Bench(with_tools(TEXT_SETUP, LOOKUP), ScriptedLLM(["It was 42."])) as bench:
        call = {"functionCall": {"id": "c1", "name": "lookup", "args": {"q": "x"}}}
        orphan = {"functionResponse": {"name": "remind", "response": {"ok": True}}}
        await bench.send(content_parts(call, role="model", turn_complete=False))
        result = {"functionResponse": {"name": "lookup", "response": {"value": 42}}}
        await bench.send(content_parts(result, orphan, {"text": "What was it?"}))
        assert bench.history() == [
            ("call", "lookup"),
            ("tool", '{"value": 42}'),
            ("user", 'Result of remind: {"ok": true}'),  # no call to follow: a late result
            ("user", "What was it?"),
            ("assistant", "It was 42."),
        ]
        entries = bench.session.conversation.entries
        assert entries[0]["tool_calls"][0]["id"] == entries[1]["tool_call_id"] == "c1"


async def test_an_audio_part_is_recognised_as_the_users_words():
    speech = speech_services(asr=ScriptedASR("what time is it"))
    async with Bench(AUDIO_SETUP, ScriptedLLM(["Noon."]), speech=speech) as bench:
        await bench.send(content_parts({"text": "Listen:"}, {"inlineData": PCM_HALF_SECOND}))
        assert bench.history()[0] == ("user", "Listen: what time is it")
        assert bench.llm.requests[0].messages[-1]["content"] == "Listen: what time is it"


async def test_an_image_part_goes_to_the_camera():
    frames: list[bytes] = []

    class Camera:
        has_new_frames = False

        async def add_frame(self, data: bytes) -> None:
            frames.append(data)

        async def aclose(self) -> None:
            pass

    async with Bench(TEXT_SETUP, ScriptedLLM(["A picture."])) as bench:
        bench.session.media.camera = Camera()  # type: ignore[assignment]
        await bench.send(content_parts({"text": "What is this?"}, {"inlineData": PNG}))
        assert frames == [b"a picture"]
        assert bench.history()[0] == ("user", "What is this?")


async def test_parts_a_text_server_cannot_use_are_logged_once_each_and_the_text_answered(
    caplog: pytest.LogCaptureFixture,
):
    async with Bench(TEXT_SETUP, ScriptedLLM(["One."], ["Two."])) as bench:
        for _ in range(2):
            parts = [{"text": "Look and listen."}, {"inlineData": PNG}]
            parts += [{"inlineData": PCM_HALF_SECOND}, {"fileData": {"fileUri": "gs://b/f"}}]
            await bench.send(content_parts(*parts))
        assert bench.count("turnComplete") == 2
        assert bench.closed is None
        assert bench.history()[0] == ("user", "Look and listen.")
    unused = [r.getMessage() for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(unused) == 3, unused
    assert any("image parts (no vision" in m for m in unused)
    assert any("audio parts (no speech" in m for m in unused)
    assert any("fileData parts" in m for m in unused)


# -- function calls -------------------------------------------------------------------------


async def test_no_turn_complete_between_a_blocking_call_and_its_answer_however_long_it_takes():
    llm = ScriptedLLM([Call("lookup", {"q": "answer"})], ["It is 42."])
    setup = with_tools(TEXT_SETUP, LOOKUP)
    async with Bench(setup, llm, turn_stall_s=30, tool_response_timeout_s=0) as bench:
        await bench.say("what is it?")
        assert bench.kinds() == ["toolCall"]
        assert bench.session.turn.state is TurnState.WAITING_FOR_TOOL
        await bench.clock.advance(600)  # ten minutes, no timeout set: a wait, not a stall
        assert bench.kinds() == ["toolCall"]
        assert bench.closed is None
        await bench.send(answer(bench, {"value": 42}))
        assert bench.kinds() == ["toolCall", "text", "generationComplete", "turnComplete"]
        assert bench.history() == [
            ("user", "what is it?"),
            ("call", "lookup"),
            ("tool", '{"value": 42}'),
            ("assistant", "It is 42."),
        ]


async def test_an_unanswered_call_times_out_into_an_error_result_and_the_turn_goes_on():
    llm = ScriptedLLM([Call("lookup")], ["I could not look it up."])
    async with Bench(with_tools(TEXT_SETUP, LOOKUP), llm, tool_response_timeout_s=60) as bench:
        await bench.say("what is it?")
        late = answer(bench, {"value": 42})
        await bench.clock.advance(59.9)
        assert bench.kinds() == ["toolCall"]
        await bench.clock.advance(0.2)
        assert bench.kinds() == [
            *("toolCall", "toolCallCancellation", "text"),
            *("generationComplete", "turnComplete"),
        ]
        call_id = late["toolResponse"]["functionResponses"][0]["id"]
        cancellation = next(m for m in bench.received if "toolCallCancellation" in m)
        assert cancellation["toolCallCancellation"]["ids"] == [call_id]
        assert bench.history()[1:3] == [
            ("call", "lookup"),
            ("tool", '{"error": "timed out: the function returned no result in time"}'),
        ]
        assert "timed out" in str(bench.llm.requests[1].messages[-1])  # the model was told
        await bench.send(late)  # it crossed the cancellation: dropped, the session lives on
        assert bench.closed is None
        assert bench.count("turnComplete") == 1


async def test_a_slow_call_gets_a_spoken_filler_that_history_never_keeps():
    llm = ScriptedLLM([Call("lookup")], ["It is sunny."])
    speech = speech_services()
    setup = with_tools(AUDIO_SETUP, LOOKUP)
    async with Bench(setup, llm, speech=speech, tool_filler_delay_s=1.5) as bench:
        await bench.say("weather?")
        await bench.clock.advance(1.6)
        assert " ".join(speech.tts.spoken).startswith("One moment, let me check")
        await bench.send(answer(bench, {"sky": "sunny"}))
        await bench.until(lambda: "turnComplete" in bench.kinds())
        assert bench.kinds().count("turnComplete") == 1
        assert speech.tts.spoken[-1] == "It is sunny."  # a clause of its own
        assert bench.history()[-1] == ("assistant", "It is sunny.")
        assert "moment" not in str(bench.session.conversation.entries)


async def test_barge_in_during_the_filler_cancels_the_call_and_keeps_no_filler():
    llm = ScriptedLLM([Call("lookup")])
    setup = with_tools(AUDIO_SETUP, LOOKUP)
    async with Bench(setup, llm, speech=speech_services(), tool_filler_delay_s=1.5) as bench:
        await bench.say("weather?")
        await bench.clock.advance(2.5)  # the filler plays
        await bench.send({"realtimeInput": {"activityStart": {}}})
        assert bench.kinds()[-3:] == ["toolCallCancellation", "interrupted", "turnComplete"]
        roles = [role for role, _ in bench.history()]
        assert roles == ["user", "call", "tool"]  # the call, answered as cancelled; no filler
        assert "cancelled" in bench.history()[-1][1]


@pytest.mark.parametrize(
    ("scheduling", "interrupts", "answers"),
    [("WHEN_IDLE", False, True), ("SILENT", False, False), ("INTERRUPT", True, True)],
)
async def test_a_background_result_waits_for_the_reply_as_its_scheduling_says(
    scheduling: str, interrupts: bool, answers: bool
):
    gate = asyncio.Event()
    llm = ScriptedLLM([Call("remind", {"what": "tea"})], ["Sure", Wait(gate), " thing."], ["Set."])
    async with Bench(with_tools(TEXT_SETUP, BACKGROUND), llm) as bench:
        await bench.say("remind me")
        assert bench.kinds() == ["toolCall", "generationComplete", "turnComplete"]
        await bench.say("and then?")  # a reply of its own is being written
        await bench.send(answer(bench, {"ok": True}, scheduling=scheduling))
        assert ("interrupted" in bench.kinds()) is interrupts
        gate.set()
        await settle()
        result = ("user", 'Result of remind: {"ok": true}')
        history = bench.history()
        assert history[4:] == (
            [("assistant", "Sure"), result, ("assistant", "Set.")]
            if interrupts
            else [("assistant", "Sure thing."), result, *([("assistant", "Set.")] * answers)]
        )
        assert bench.count("turnComplete") == 2 + answers


# -- engines that fail --------------------------------------------------------------------------


async def test_a_hung_engine_still_ends_the_turn_then_closes():
    llm = ScriptedLLM(["Let me", Hang()])
    async with Bench(TEXT_SETUP, llm, turn_stall_s=30) as bench:
        await bench.say("hi")
        await bench.clock.advance(29)
        assert bench.kinds() == ["text"]
        await bench.clock.advance(2)
        assert bench.kinds() == ["text", "turnComplete"]
        assert bench.closed is not None and bench.closed.code == 1011
        assert bench.closed.reason == "Deadline expired before operation could complete."
        assert bench.history() == [("user", "hi"), ("assistant", "Let me")]


class SlottedLLM(ScriptedLLM):
    """The script behind generation slots, as on the embedded runtime."""

    def __init__(self, slots: LLMSlots, *steps: Step) -> None:
        super().__init__(*steps)
        self.slots = slots

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        await self.slots.acquire()
        try:
            async for delta in super().stream(request):
                yield delta
        finally:
            self.slots.release()


@pytest.mark.parametrize("runtime_produces", [True, False])
async def test_a_reply_waiting_for_a_slot_is_not_stalled_while_the_runtime_produces(
    runtime_produces: bool,
):
    ticks = iter(range(10**6))
    slots = LLMSlots(1, clock=lambda: float(next(ticks)))  # every reading a second later
    llm = SlottedLLM(slots, ["Here you are."])
    async with Bench(TEXT_SETUP, llm, turn_stall_s=30) as bench:
        await slots.acquire()  # another session's long generation holds the only slot
        await bench.say("hi")
        for _ in range(6):  # a minute behind it
            await bench.clock.advance(10)
            if runtime_produces:
                slots.tick()
        if not runtime_produces:  # a runtime that produces nothing stalls its waiters too
            assert bench.closed is not None and bench.closed.code == 1011
            return
        assert bench.closed is None and bench.kinds() == []
        slots.release()
        await bench.clock.advance(1)
        assert bench.kinds() == ["text", "generationComplete", "turnComplete"]
        assert bench.history() == [("user", "hi"), ("assistant", "Here you are.")]


async def test_a_raising_engine_ends_the_turn_then_closes():
    llm = ScriptedLLM(["Let me", Fail(LLMError("the server went away"))])
    async with Bench(TEXT_SETUP, llm) as bench:
        await bench.say("hi")
        assert bench.kinds() == ["text", "turnComplete"]
        assert bench.closed is not None and bench.closed.code == 1011
        assert bench.closed.reason == "Internal error encountered."


async def test_speech_failing_while_a_call_waits_ends_the_turn_instead_of_sticking():
    llm = ScriptedLLM(["Checking the weather now.", Call("lookup")])
    speech = speech_services(tts=WordTTS(fail_on="weather"))
    setup = with_tools(AUDIO_SETUP, LOOKUP)
    async with Bench(setup, llm, speech=speech, tool_filler_delay_s=1.5) as bench:
        await bench.say("weather?")
        assert bench.session.turn.state is TurnState.WAITING_FOR_TOOL
        await bench.clock.advance(1.6)  # the filler pushes the first clause to the voice
        assert bench.kinds() == ["toolCall", "turnComplete"]
        assert bench.closed is not None and bench.closed.code == 1011
        assert bench.session.turn.state is TurnState.IDLE


# -- resumption -----------------------------------------------------------------------------


async def test_a_resumed_session_has_the_history_and_answers_a_call_owed_from_before(
    tmp_path: Path,
):
    resumption = Resumption(SQLiteStore(tmp_path / "sessions.db"), ttl_s=60)
    setup = {**with_tools(TEXT_SETUP, LOOKUP), "sessionResumption": {}}
    first = ScriptedLLM(["Let me look.", Call("lookup", {"q": "x"})])
    async with Bench(setup, first, resumption=resumption) as bench:
        await bench.stored(updates=1)  # the handshake's handle
        await bench.say("look it up")  # a call is sent: that handle is re-stored in place
        handles = [m for m in bench.received if "sessionResumptionUpdate" in m]
        handle = handles[-1]["sessionResumptionUpdate"]["newHandle"]
        response = answer(bench, {"found": "y"})
        history = bench.history()
        snapshot = bench.session.snapshot()
    stored = await resumption.load(handle)
    assert stored is not None
    assert {key: stored[key] for key in snapshot} == snapshot
    second = ScriptedLLM(["Found y."])
    async with Bench(setup, second, resumption=resumption, restored=stored) as resumed:
        assert resumed.session.session_id == snapshot["session_id"]
        assert resumed.history() == history
        await resumed.send(response)
        assert resumed.kinds() == ["text", "generationComplete", "turnComplete"]
        assert resumed.history() == [
            *history,
            ("tool", '{"found": "y"}'),
            ("assistant", "Found y."),
        ]
        assert resumed.session.snapshot()["pending_calls"] == []


# -- spoken replies without a client limit --------------------------------------------------


async def test_a_long_spoken_reply_ends_at_a_sentence_end_and_stops_the_engine():
    sentence = "This is one more sentence of a reply that goes on and on. "
    words = [f"{w} " for w in (sentence * 20).split()]  # ~240 words, streamed word by word
    llm = ScriptedLLM(words)
    async with Bench(AUDIO_SETUP, llm, speech=speech_services()) as bench:
        await bench.say("talk")
        await bench.clock.advance(200 * WORD_S)
        said = bench.history()[-1][1]
        assert said.endswith("and on.")
        assert 60 <= len(said.split()) < 60 + len(sentence.split())
        assert llm.requests[0].max_tokens == 200  # the engine's own cap leaves room to finish
        assert bench.kinds()[-2:] == ["generationComplete", "turnComplete"]


async def test_the_clients_max_output_tokens_rules_a_spoken_reply():
    setup = {**AUDIO_SETUP, "generationConfig": {**AUDIO_SETUP["generationConfig"]}}
    setup["generationConfig"]["maxOutputTokens"] = 500
    words = [f"{w} " for w in ("Word and word. " * 40).split()]
    llm = ScriptedLLM(words)
    async with Bench(setup, llm, speech=speech_services()) as bench:
        await bench.say("talk")
        await bench.clock.advance(200 * WORD_S)
        assert len(bench.history()[-1][1].split()) == len(words)
        assert llm.requests[0].max_tokens == 500


async def test_a_text_reply_keeps_the_servers_token_limit():
    llm = ScriptedLLM([f"{w} " for w in ("Word and word. " * 40).split()])
    async with Bench(TEXT_SETUP, llm) as bench:
        await bench.say("talk")
        await settle(1000)
        assert len(bench.history()[-1][1].split()) == 120
        assert llm.requests[0].max_tokens == 1024
