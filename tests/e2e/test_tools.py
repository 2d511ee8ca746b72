"""Function calling and googleSearch through google-genai (Python, pinned) over TLS, public API.

The packaged model is a placeholder. At temperature 0 its decoding is greedy, hence repeatable, and
the questions below are ones it answers with a call; the tests assert the call's name, that its
arguments validate against the declared schema, the order of the messages, and what reaches the
engine (``server.llm_requests()``) — never the wording of an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import numpy as np
import pytest
from google.genai import errors, types

from ..genai_helpers import MODEL, client_for, requests_containing, text_config, user_text
from ..raw_ws import GEMINI_PATH, connect, recv_json
from ..servers import DEFAULT_MODEL, ServerProcess, start_server
from ..speech import SAMPLE_RATE, SpeechMaker, pad
from ..tool_servers import (
    SEARCH_RESULTS,
    scripted_openai_server,
    searxng_server,
    text_stream,
    tool_call_stream,
)

PARIS = "What's the weather in Paris?"
PARIS_AND_BERLIN = "What's the weather in Paris and in Berlin?"
STOP = "Wait, stop, tell me about dogs instead."

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING, description="The city name")},
        required=["city"],
    ),
)
# What the server must make of WEATHER's OpenAPI-style parameters.
WEATHER_JSON_SCHEMA = {
    "type": "object",
    "properties": {"city": {"description": "The city name", "type": "string"}},
    "required": ["city"],
}


def weather_tool(behavior: types.Behavior | None = None) -> types.Tool:
    declaration = WEATHER.model_copy(update={"behavior": behavior})
    return types.Tool(function_declarations=[declaration])


def tool_config(**overrides: Any) -> types.LiveConnectConfig:
    overrides.setdefault("tools", [weather_tool()])
    overrides.setdefault("temperature", 0.0)
    return text_config(**overrides)


def assert_weather_call(call: types.FunctionCall, city: str) -> None:
    assert call.name == "get_weather"
    assert call.id and call.id.startswith("call_"), call.id
    jsonschema.validate(call.args, WEATHER_JSON_SCHEMA)
    assert call.args["city"].lower() == city.lower(), call.args


def weather_report(call: types.FunctionCall, marker: str) -> types.FunctionResponse:
    return types.FunctionResponse(
        id=call.id, name=call.name, response={"city": call.args["city"], "forecast": marker}
    )


# -- what came back ---------------------------------------------------------------------------


@dataclass
class Received:
    """Everything ``receive()`` yielded (until turnComplete), with arrival times."""

    messages: list[tuple[float, types.LiveServerMessage]] = field(default_factory=list)

    def events(self) -> list[str]:
        names: list[str] = []
        for _, message in self.messages:
            names += _events_of(message)
        collapsed: list[str] = []
        for name in names:
            if not (collapsed and collapsed[-1] == name in ("text", "audio")):
                collapsed.append(name)
        return collapsed

    def tool_calls(self) -> list[types.LiveServerToolCall]:
        return [m.tool_call for _, m in self.messages if m.tool_call]

    def text(self) -> str:
        return "".join(
            part.text or ""
            for _, m in self.messages
            if m.server_content and m.server_content.model_turn
            for part in m.server_content.model_turn.parts or []
        )

    def output_text(self, after: float = 0.0, before: float = float("inf")) -> str:
        return "".join(
            m.server_content.output_transcription.text or ""
            for at, m in self.messages
            if after <= at < before and m.server_content and m.server_content.output_transcription
        )

    def audio_seconds(self, after: float = 0.0, before: float = float("inf")) -> float:
        samples = sum(
            len(part.inline_data.data) // 2
            for at, m in self.messages
            if after <= at < before and m.server_content and m.server_content.model_turn
            for part in m.server_content.model_turn.parts or []
            if part.inline_data
        )
        return samples / 24_000


def _events_of(message: types.LiveServerMessage) -> list[str]:
    names = []
    if message.tool_call:
        names.append("toolCall")
    if message.tool_call_cancellation:
        names.append("toolCallCancellation")
    content = message.server_content
    if content is not None:
        if content.grounding_metadata:
            names.append("groundingMetadata")
        for part in content.model_turn.parts if content.model_turn else []:
            names.append("audio" if part.inline_data else "text")
        if content.interrupted:
            names.append("interrupted")
        if content.generation_complete:
            names.append("generationComplete")
        if content.turn_complete:
            names.append("turnComplete")
    return names


OnMessage = Callable[[types.LiveServerMessage], Awaitable[None]]


async def receive(session: Any, on_message: OnMessage | None = None) -> Received:
    """One model turn: ``receive()`` ends by itself after turnComplete, and (docs/protocol.md
    §6.4) a blocking call's toolCall and its answer come within one such turn."""
    received = Received()
    async with asyncio.timeout(120):
        async for message in session.receive():
            received.messages.append((time.monotonic(), message))
            if on_message is not None:
                await on_message(message)
    return received


async def answering(session: Any, marker: str = "sunny and 21 degrees") -> OnMessage:
    async def on_message(message: types.LiveServerMessage) -> None:
        if message.tool_call:
            await session.send_tool_response(
                function_responses=[
                    weather_report(call, marker) for call in message.tool_call.function_calls
                ]
            )

    return on_message


async def nothing_arrives(session: Any, seconds: float) -> bool:
    stream = session.receive()
    try:
        message = await asyncio.wait_for(anext(stream), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected message: {message}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A text-only server on the embedded model; no web search configured."""
    process = start_server(tmp_path_factory.mktemp("tools"), llm=DEFAULT_MODEL)
    yield process
    process.stop()


# -- blocking calls ---------------------------------------------------------------------------


async def test_a_text_question_is_answered_through_a_blocking_call(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:
        await session.send_client_content(turns=user_text(PARIS))
        turn = await receive(session, await answering(session, "sunny, 23.5 C, marker-4711"))

    [tool_call] = turn.tool_calls()
    [call] = tool_call.function_calls
    assert_weather_call(call, "Paris")
    # One turn: the call, then the answer; no turnComplete between them.
    events = turn.events()
    assert events[0] == "toolCall", events
    assert events[-2:] == ["generationComplete", "turnComplete"], events
    assert events.count("turnComplete") == 1
    assert turn.text(), "the answer streams after the result"
    usage = turn.messages[-1][1].usage_metadata
    assert usage is not None and usage.prompt_token_count > 0

    # The declaration reached the engine as JSON Schema (types lowercased), and the result came
    # back to it as context for the answer, after the call in history.
    first = requests_containing(server, PARIS)[0]
    schema = json.dumps(first["response_format"])
    assert json.dumps(WEATHER_JSON_SCHEMA["properties"]) in schema
    answer = requests_containing(server, "marker-4711")[0]
    contents = [m["content"] for m in answer["messages"]]
    assert contents[-3] == PARIS
    assert json.loads(contents[-2]) == {"calls": [{"name": "get_weather", "args": call.args}]}
    assert "get_weather" in contents[-1] and "marker-4711" in contents[-1]


async def test_two_calls_in_one_turn_come_in_one_tool_call(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:
        await session.send_client_content(turns=user_text(PARIS_AND_BERLIN))
        turn = await receive(session, await answering(session, "marker-two-cities"))

    [tool_call] = turn.tool_calls()
    paris, berlin = tool_call.function_calls
    assert_weather_call(paris, "Paris")
    assert_weather_call(berlin, "Berlin")
    assert paris.id != berlin.id
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    answer = requests_containing(server, "marker-two-cities")[0]
    results = answer["messages"][-1]["content"]  # the results, in the order of the calls
    assert results.count("marker-two-cities") == 2
    assert results.index("Paris") < results.index("Berlin")


async def test_new_content_cancels_a_pending_call(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:
        await session.send_client_content(turns=user_text(PARIS))
        cancelled: list[str] = []

        async def change_of_mind(message: types.LiveServerMessage) -> None:
            if message.tool_call:  # instead of answering, the user moves on
                await session.send_client_content(turns=user_text("Never mind. Hello!"))
            if message.tool_call_cancellation:
                cancelled.extend(message.tool_call_cancellation.ids)

        turn = await receive(session, change_of_mind)
        [call] = turn.tool_calls()[0].function_calls
        assert turn.events() == ["toolCall", "toolCallCancellation", "interrupted", "turnComplete"]
        assert cancelled == [call.id]

        # A response that crossed the cancellation is dropped, not an error.
        await session.send_tool_response(function_responses=[weather_report(call, "too late")])
        following = await receive(session, await answering(session))
        assert following.events()[-1] == "turnComplete"

    [request] = requests_containing(server, "Never mind. Hello!")[:1]
    last = request["messages"][-1]["content"]
    assert "cancelled" in last, last  # every call in history has an outcome
    assert last.endswith("Never mind. Hello!")
    assert not requests_containing(server, "too late")


async def test_a_response_for_an_unknown_id_closes_1007(server: ServerProcess) -> None:
    client = client_for(server)
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:
            await session.send_tool_response(
                function_responses=[
                    types.FunctionResponse(id="call_nope", name="get_weather", response={})
                ]
            )
            await receive(session)
    assert raised.value.code == 1007
    assert "no pending function call with id 'call_nope'" in str(raised.value)


# -- non-blocking calls -----------------------------------------------------------------------


async def background_call(session: Any) -> types.FunctionCall:
    """Ask for the weather with a NON_BLOCKING declaration: the turn ends after the call."""
    await session.send_client_content(turns=user_text(PARIS))
    turn = await receive(session)
    assert turn.events() == ["toolCall", "generationComplete", "turnComplete"], turn.events()
    [call] = turn.tool_calls()[0].function_calls
    assert_weather_call(call, "Paris")
    return call


def background_config(**overrides: Any) -> types.LiveConnectConfig:
    return tool_config(tools=[weather_tool(types.Behavior.NON_BLOCKING)], **overrides)


def scheduled(call: types.FunctionCall, marker: str, scheduling: str) -> types.FunctionResponse:
    response = weather_report(call, marker)
    response.scheduling = types.FunctionResponseScheduling(scheduling)
    return response


async def test_non_blocking_silent_result_only_joins_the_context(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=background_config()) as session:
        call = await background_call(session)
        await session.send_tool_response(
            function_responses=[scheduled(call, "marker-silent", "SILENT")]
        )
        assert await nothing_arrives(session, 1.5)
        await session.send_realtime_input(text="Thanks, anything else?")
        turn = await receive(session)
    assert turn.events()[-1] == "turnComplete"
    [request] = requests_containing(server, "Thanks, anything else?")[:1]
    assert "marker-silent" in request["messages"][-1]["content"]


async def test_non_blocking_when_idle_result_starts_a_turn(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=background_config()) as session:
        call = await background_call(session)
        await session.send_tool_response(
            function_responses=[scheduled(call, "marker-idle", "WHEN_IDLE")]
        )
        turn = await receive(session)
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"], turn.events()
    assert "interrupted" not in turn.events()
    [request] = requests_containing(server, "marker-idle")[:1]
    assert "marker-idle" in request["messages"][-1]["content"]


async def story_with_result(session: Any, call: types.FunctionCall, scheduling: str) -> Received:
    """Clear the tools (contextUpdate), ask for a long story, and deliver the call's result
    while the story streams."""
    await session.send_context_update(tools=[])
    await session.send_realtime_input(text="Tell me a long story about a dragon.")
    delivered = False

    async def deliver(message: types.LiveServerMessage) -> None:
        nonlocal delivered
        if message.server_content and message.server_content.model_turn and not delivered:
            delivered = True
            response = scheduled(call, f"marker-{scheduling.lower()}", scheduling)
            await session.send_tool_response(function_responses=[response])

    return await receive(session, deliver)


async def test_non_blocking_interrupt_result_cuts_the_reply(server: ServerProcess) -> None:
    client = client_for(server)
    config = background_config(max_output_tokens=400)
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        call = await background_call(session)
        story = await story_with_result(session, call, "INTERRUPT")
        assert story.events()[-2:] == ["interrupted", "turnComplete"], story.events()
        following = await receive(session)
    assert following.events()[-2:] == ["generationComplete", "turnComplete"]
    [request] = requests_containing(server, "marker-interrupt")[:1]
    contents = [m["content"] for m in request["messages"]]
    assert contents[-3] == "Tell me a long story about a dragon."
    assert contents[-2] == story.text()  # history keeps what was sent of the story
    assert "marker-interrupt" in contents[-1]


async def test_non_blocking_when_idle_result_waits_for_the_reply(server: ServerProcess) -> None:
    client = client_for(server)
    config = background_config(max_output_tokens=200)
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        call = await background_call(session)
        story = await story_with_result(session, call, "WHEN_IDLE")
        assert story.events()[-2:] == ["generationComplete", "turnComplete"], story.events()
        following = await receive(session)
    assert following.events()[-2:] == ["generationComplete", "turnComplete"]
    [request] = requests_containing(server, "marker-when_idle")[:1]
    contents = [m["content"] for m in request["messages"]]
    assert contents[-2] == story.text()  # the whole story, then the result
    assert "marker-when_idle" in contents[-1]


# -- tool config, context updates, plain JSON Schema ------------------------------------------

TIME_DECLARATION = {
    "name": "get_time",
    "description": "Get the current time in a time zone.",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {"timezone": {"type": "string"}},
        "required": ["timezone"],
    },
}


async def raw_turn(server: ServerProcess, setup: dict, text: str) -> list[dict]:
    """A raw-WebSocket session (google-genai's Live types have no toolConfig)."""
    async with connect(server, GEMINI_PATH) as ws:
        await ws.send(json.dumps({"setup": setup}))
        assert "setupComplete" in await recv_json(ws)
        await ws.send(json.dumps({"realtimeInput": {"text": text}}))
        messages = []
        while True:
            message = await recv_json(ws, timeout=60)
            messages.append(message)
            for call in message.get("toolCall", {}).get("functionCalls", []):
                response = {"id": call["id"], "name": call["name"], "response": {"ok": True}}
                await ws.send(json.dumps({"toolResponse": {"functionResponses": [response]}}))
            if message.get("serverContent", {}).get("turnComplete"):
                return messages


def raw_setup(tool_config: dict) -> dict:
    weather = {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
    }
    return {
        "model": "models/x",
        "generationConfig": {
            "responseModalities": ["TEXT"],
            "temperature": 0,
            "maxOutputTokens": 30,
        },
        "tools": [{"functionDeclarations": [weather, TIME_DECLARATION]}],
        "toolConfig": tool_config,
    }


async def test_tool_config_any_forces_an_allowed_call(server: ServerProcess) -> None:
    mode = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}}
    messages = await raw_turn(server, raw_setup(mode), "Hello there!")
    calls = [call for m in messages for call in m.get("toolCall", {}).get("functionCalls", [])]
    assert calls, messages
    assert calls[0]["name"] == "get_time"
    jsonschema.validate(calls[0]["args"], TIME_DECLARATION["parametersJsonSchema"])
    assert messages[-1]["serverContent"]["turnComplete"] is True


async def test_tool_config_none_offers_no_function(server: ServerProcess) -> None:
    mode = {"functionCallingConfig": {"mode": "NONE"}}
    messages = await raw_turn(server, raw_setup(mode), PARIS)
    assert not any("toolCall" in m for m in messages)
    assert any("modelTurn" in m.get("serverContent", {}) for m in messages)
    [request] = requests_containing(server, PARIS)[-1:]
    assert "response_format" not in request or request["response_format"] is None


async def test_context_update_swaps_tools_and_instruction(server: ServerProcess) -> None:
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=tool_config(tools=[])) as session:
        await session.send_client_content(turns=user_text("Before tools: hello!"))
        before = await receive(session)
        await session.send_context_update(
            system_instruction="Updated instruction 81c4.", tools=[weather_tool()]
        )
        await session.send_client_content(turns=user_text(PARIS))
        after = await receive(session, await answering(session))
    assert not before.tool_calls()
    [call] = after.tool_calls()[0].function_calls
    assert_weather_call(call, "Paris")
    request = requests_containing(server, "Updated instruction 81c4.")[0]
    assert request["messages"][0]["content"].startswith("Updated instruction 81c4.")


# -- native tool calls (an OpenAI-compatible server) ------------------------------------------


def native_script(body: dict[str, Any]) -> list[str]:
    if body["messages"][-1]["role"] == "tool":
        return text_stream("Sunny in Paris, rainy in Berlin.")
    return tool_call_stream(
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Berlin"})]
    )


async def test_native_tool_calls_from_an_openai_compatible_server(server_factory) -> None:
    with scripted_openai_server(native_script) as llm:
        server = server_factory("--llm", f"openai:{llm.url}")
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:
            await session.send_client_content(turns=user_text(PARIS_AND_BERLIN))
            turn = await receive(session, await answering(session, "marker-native"))

    [tool_call] = turn.tool_calls()
    paris, berlin = tool_call.function_calls
    assert_weather_call(paris, "Paris")
    assert_weather_call(berlin, "Berlin")
    assert turn.text().strip() == "Sunny in Paris, rainy in Berlin."
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]

    first, second = llm.requests
    assert first["tool_choice"] == "auto"
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather for a city.",
                "parameters": WEATHER_JSON_SCHEMA,
            },
        }
    ]
    # History as OpenAI messages: the assistant's tool_calls (with our ids), then one tool
    # message per call.
    assistant, *results = second["messages"][-3:]
    assert [c["id"] for c in assistant["tool_calls"]] == [paris.id, berlin.id]
    assert [json.loads(c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        {"city": "Paris"},
        {"city": "Berlin"},
    ]
    assert [(r["role"], r["tool_call_id"]) for r in results] == [
        ("tool", paris.id),
        ("tool", berlin.id),
    ]
    assert all("marker-native" in r["content"] for r in results)


# -- googleSearch -----------------------------------------------------------------------------

SEARCH_QUESTION = "Who won the 2026 chess olympiad?"


async def test_a_call_left_unanswered_times_out_and_the_turn_goes_on(server_factory) -> None:
    # Like Firebase Web's helper: one response per toolCall, so the second call gets none.
    with scripted_openai_server(native_script) as llm:
        env = {"OPENLIVE_TOOL_RESPONSE_TIMEOUT_S": "2"}
        server = server_factory("--llm", f"openai:{llm.url}", env=env)
        client = client_for(server)
        async with client.aio.live.connect(model=MODEL, config=tool_config()) as session:

            async def answer_the_first_only(message: types.LiveServerMessage) -> None:
                if message.tool_call:
                    first = message.tool_call.function_calls[0]
                    report = weather_report(first, "marker-first")
                    await session.send_tool_response(function_responses=[report])

            await session.send_client_content(turns=user_text(PARIS_AND_BERLIN))
            started = time.monotonic()
            turn = await receive(session, answer_the_first_only)

    [tool_call] = turn.tool_calls()
    paris, berlin = tool_call.function_calls
    assert turn.events() == [
        *("toolCall", "toolCallCancellation", "text"),
        *("generationComplete", "turnComplete"),
    ]
    [cancellation] = [
        m.tool_call_cancellation for _, m in turn.messages if m.tool_call_cancellation
    ]
    assert cancellation.ids == [berlin.id]
    cancelled_at = next(at for at, m in turn.messages if m.tool_call_cancellation)
    assert 1.5 < cancelled_at - started < 10
    _, second = llm.requests
    results = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert "marker-first" in results[paris.id]
    assert "timed out" in results[berlin.id]


async def test_google_search_grounds_the_answer(server_factory) -> None:
    with searxng_server() as search:
        server = server_factory(env={"OPENLIVE_SEARCH_URL": search.url})
        client = client_for(server)
        config = text_config(tools=[types.Tool(google_search=types.GoogleSearch())])
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            await session.send_client_content(turns=user_text(SEARCH_QUESTION))
            turn = await receive(session)

    assert search.requests == [{"q": SEARCH_QUESTION, "format": "json"}]
    events = turn.events()
    assert events[0] == "groundingMetadata" and events[-1] == "turnComplete", events
    [metadata] = [
        m.server_content.grounding_metadata
        for _, m in turn.messages
        if m.server_content and m.server_content.grounding_metadata
    ]
    assert metadata.web_search_queries == [SEARCH_QUESTION]
    assert [(c.web.uri, c.web.title) for c in metadata.grounding_chunks] == [
        (r["url"], r["title"]) for r in SEARCH_RESULTS
    ]
    assert SEARCH_RESULTS[0]["url"] in metadata.search_entry_point.rendered_content
    # The model read the results with the question.
    [request] = requests_containing(server, SEARCH_QUESTION)
    assert "Zephyria" in request["messages"][-1]["content"]


async def test_google_search_without_a_search_url_warns_and_still_answers(
    server: ServerProcess,
) -> None:
    client = client_for(server)
    config = text_config(tools=[types.Tool(google_search=types.GoogleSearch())])
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=user_text("Search test without a provider."))
        turn = await receive(session)
    assert "groundingMetadata" not in turn.events()
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    assert "googleSearch requested but no web search is configured" in server.log()
    assert "OPENLIVE_SEARCH_URL" in server.log()


# -- spoken questions -------------------------------------------------------------------------

CHUNK_S = 0.1


class Microphone:
    """100 ms of 16 kHz PCM every 100 ms, silence when nothing is queued, like a live mic."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._queue: list[bytes] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Microphone:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def say(self, audio: np.ndarray) -> None:
        data = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
        size = int(SAMPLE_RATE * CHUNK_S) * 2
        self._queue += [data[i : i + size].ljust(size, b"\0") for i in range(0, len(data), size)]

    async def _run(self) -> None:
        silence = bytes(int(SAMPLE_RATE * CHUNK_S) * 2)
        deadline = time.monotonic()
        while True:
            data = self._queue.pop(0) if self._queue else silence
            blob = types.Blob(data=data, mime_type=f"audio/pcm;rate={SAMPLE_RATE}")
            await self.session.send_realtime_input(audio=blob)
            deadline += CHUNK_S
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(tmp_path_factory.mktemp("tools-voice"), speech=True, llm=DEFAULT_MODEL)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechMaker:
    return SpeechMaker(tmp_path_factory.mktemp("tools-speech"))


def spoken_config() -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        max_output_tokens=40,
        temperature=0.0,
        tools=[weather_tool()],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )


async def test_a_spoken_question_is_answered_through_a_slow_call_without_dead_air(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    client = client_for(voice_server)
    responded_at: list[float] = []
    async with (
        client.aio.live.connect(model=MODEL, config=spoken_config()) as session,
        Microphone(session) as mic,
    ):
        mic.say(pad(speech.say(PARIS), after=0.3))

        # The client answers only once the filler has been heard (a second of it, whatever the
        # machine's synthesis speed), so the call outlasts the 1.5 s filler delay on any CPU.
        filler_heard = asyncio.Event()
        filler = {"audio_s": 0.0, "text": ""}
        waiting: list[bool] = []  # the call is out and not yet answered

        async def slow_client(message: types.LiveServerMessage) -> None:
            content = message.server_content
            if content is not None and waiting and not responded_at:
                if content.output_transcription:
                    filler["text"] += content.output_transcription.text or ""
                for part in (content.model_turn.parts or []) if content.model_turn else []:
                    if part.inline_data:
                        filler["audio_s"] += len(part.inline_data.data) / 2 / 24_000
                if "One moment" in filler["text"] and filler["audio_s"] > 1.0:
                    filler_heard.set()
            if message.tool_call:
                calls = message.tool_call.function_calls
                waiting.append(True)

                async def respond() -> None:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(60):
                            await filler_heard.wait()
                    responded_at.append(time.monotonic())
                    reports = [weather_report(call, "marker-spoken") for call in calls]
                    await session.send_tool_response(function_responses=reports)

                asyncio.get_running_loop().create_task(respond())

        turn = await receive(session, slow_client)

    [tool_call] = turn.tool_calls()
    [call] = tool_call.function_calls
    assert_weather_call(call, "Paris")
    called_at = next(at for at, m in turn.messages if m.tool_call)
    [responded] = responded_at
    # While the client worked, the filler was spoken, through the same audio path.
    assert "One moment" in turn.output_text(called_at, responded)
    assert turn.audio_seconds(called_at, responded) > 1.0
    # After the result: the spoken answer, in the same turn.
    assert turn.audio_seconds(responded) > 0.5
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    assert turn.events().count("turnComplete") == 1
    assert requests_containing(voice_server, "marker-spoken")


async def test_barge_in_cancels_a_pending_call(
    voice_server: ServerProcess, speech: SpeechMaker
) -> None:
    client = client_for(voice_server)
    async with (
        client.aio.live.connect(model=MODEL, config=spoken_config()) as session,
        Microphone(session) as mic,
    ):
        mic.say(pad(speech.say(PARIS), after=0.3))

        async def talk_over(message: types.LiveServerMessage) -> None:
            if message.tool_call:  # no response: the user speaks again instead
                mic.say(pad(speech.say(STOP), after=0.3))

        turn = await receive(session, talk_over)
        following = await receive(session, await answering(session))

    [call] = turn.tool_calls()[0].function_calls
    assert_weather_call(call, "Paris")
    [cancellation] = [
        m.tool_call_cancellation for _, m in turn.messages if m.tool_call_cancellation
    ]
    assert cancellation.ids == [call.id]
    events = turn.events()
    assert events.index("toolCallCancellation") < events.index("interrupted"), events
    assert events[-2:] == ["interrupted", "turnComplete"], events
    assert following.events()[-1] == "turnComplete"
