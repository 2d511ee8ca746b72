"""openlive's own Python client (``openlive.client``) against real ``openlive serve`` processes,
plus its wire format against a scripted WebSocket server.

The packaged LLM is a placeholder: these tests check what is streamed, recorded and sent, never
the wisdom of the answers.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import numpy as np
import pytest
import websockets

from openlive.client import (
    Content,
    FunctionCall,
    FunctionDeclaration,
    FunctionResponse,
    GenerationComplete,
    GoAway,
    Interrupted,
    InvalidRequestError,
    LiveConnectionError,
    LiveMessage,
    LiveModel,
    ServerError,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    Transcription,
    TurnComplete,
    WavFileInput,
    WavFileOutput,
)

from ..servers import ServerProcess, start_server
from ..speech import SAMPLE_RATE, SpeechMaker, rms
from ..wer import wer

QUESTION = "What time does the museum open on Sunday mornings?"
STORY = "Please tell me a long story about a brave little dragon."
STOP = "Wait, stop, tell me about dogs instead."
WEATHER = "What is the weather like in Paris today?"


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A plain ws:// server with the voice pipeline: the client SDK takes ws:// directly."""
    server = start_server(tmp_path_factory.mktemp("client-voice"), tls=False, speech=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechMaker:
    return SpeechMaker(tmp_path_factory.mktemp("client-speech"))


def write_wav(path: Path, audio16k: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(SAMPLE_RATE)
        file.writeframes((np.clip(audio16k, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[Any, np.ndarray]:
    with wave.open(str(path)) as file:
        params = file.getparams()
        samples = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    return params, samples.astype(np.float32) / 32768.0


class Recorder:
    """``on_message`` for an audio conversation: keeps every event, wakes waiters."""

    def __init__(self) -> None:
        self.messages: list[LiveMessage] = []
        self._changed = asyncio.Event()

    def __call__(self, message: LiveMessage) -> None:
        self.messages.append(message)
        self._changed.set()

    async def wait_for(self, found: Callable[[list[LiveMessage]], bool], timeout: float = 90):
        async with asyncio.timeout(timeout):
            while not found(self.messages):
                self._changed.clear()
                await self._changed.wait()

    def transcript(self, source: str) -> str:
        return "".join(
            m.text for m in self.messages if isinstance(m, Transcription) and m.source == source
        )

    def kinds(self) -> list[str]:
        return [type(m).__name__ for m in self.messages if not isinstance(m, Transcription)]


def turn_completes(count: int = 1) -> Callable[[list[LiveMessage]], bool]:
    return lambda messages: sum(isinstance(m, TurnComplete) for m in messages) >= count


def voice_model(server: ServerProcess, **options: Any) -> LiveModel:
    options.setdefault("max_output_tokens", 30)
    return LiveModel(
        url=server.ws_url,
        response_modalities=["AUDIO"],
        input_transcription=True,
        output_transcription=True,
        **options,
    )


# -- text -------------------------------------------------------------------------------------


async def test_a_text_turn_streams_and_completes_with_usage(plain_server: ServerProcess) -> None:
    instruction = "SDK text test 5d1e. Answer briefly."
    model = LiveModel(
        response_modalities=["TEXT"],
        system_instruction=instruction,
        max_output_tokens=20,
        temperature=0.2,
        url=plain_server.ws_url,
    )
    async with model.connect() as session:
        assert session.session_id
        await session.send("Hello! Who are you?")
        first = [message async for message in session.receive_turn()]
        await session.send_text_realtime("Name a colour.")
        second = [message async for message in session.receive_turn()]

    for turn in (first, second):
        chunks = [m for m in turn if isinstance(m, Content)]
        assert len(chunks) >= 2, "the reply streams in pieces"
        assert "".join(c.text for c in chunks).strip()
        assert all(c.audio == b"" for c in chunks)
        assert [type(m) for m in turn[-2:]] == [GenerationComplete, TurnComplete], turn[-3:]
        usage = turn[-1].usage
        assert usage is not None and 0 < usage.response_token_count <= 20
        assert usage.total_token_count == usage.prompt_token_count + usage.response_token_count

    requests = [
        r for r in plain_server.llm_requests() if r["messages"][0]["content"] == instruction
    ]
    assert len(requests) == 2
    assert requests[0]["temperature"] == pytest.approx(0.2)
    assert [m["role"] for m in requests[1]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert requests[1]["messages"][3]["content"] == "Name a colour."


def test_the_sync_face_runs_a_turn(plain_server: ServerProcess) -> None:
    model = LiveModel(response_modalities=["TEXT"], max_output_tokens=8, url=plain_server.ws_url)
    with model.connect_sync() as session:
        session.send("Say hello.")
        turn = list(session.receive_turn())
    assert isinstance(turn[-1], TurnComplete)
    assert "".join(m.text for m in turn if isinstance(m, Content)).strip()


async def test_wss_with_the_servers_ca_file(tls_server: ServerProcess) -> None:
    options: dict[str, Any] = {"response_modalities": ["TEXT"], "max_output_tokens": 5}
    trusted = LiveModel(url=tls_server.ws_url, cafile=tls_server.ca_cert, **options)
    async with trusted.connect() as session:
        await session.send("Hi.")
        assert isinstance([m async for m in session.receive_turn()][-1], TurnComplete)

    public_cas_only = ssl.create_default_context(cafile=certifi.where())
    untrusted = LiveModel(url=tls_server.ws_url, ssl=public_cas_only, **options)
    with pytest.raises(LiveConnectionError, match="certificate not trusted"):
        await untrusted.connect()


async def test_a_bad_api_key_is_refused_with_1007(server_factory) -> None:
    server = server_factory("--api-key", "good", tls=False)
    options: dict[str, Any] = {"response_modalities": ["TEXT"], "url": server.ws_url}

    with pytest.raises(InvalidRequestError) as refused:
        await LiveModel(api_key="bad", **options).connect()
    assert refused.value.code == 1007
    assert refused.value.reason == "API key not valid. Please pass a valid API key."

    # The right key is let in, as a ?key= query (like JS) or an x-goog-api-key header (Python).
    for in_header in (False, True):
        async with LiveModel(api_key="good", api_key_in_header=in_header, **options).connect():
            pass


async def test_a_dead_port_is_a_connection_error() -> None:
    from ..servers import free_port

    url = f"ws://127.0.0.1:{free_port()}"
    with pytest.raises(LiveConnectionError) as failed:
        await LiveModel(url=url).connect()
    assert failed.value.url == url
    assert failed.value.detail == "connection refused"


# -- voice ------------------------------------------------------------------------------------


async def test_a_voice_turn_from_a_wav_file_into_a_wav_file(
    voice_server: ServerProcess, speech: SpeechMaker, tmp_path: Path
) -> None:
    question = write_wav(tmp_path / "question.wav", speech.say(QUESTION))
    speaker = WavFileOutput(tmp_path / "reply.wav")
    recorder = Recorder()
    async with voice_model(voice_server, voice="Kore").connect() as session:
        await session.start_audio_conversation(
            input_device=WavFileInput(question), output_device=speaker, on_message=recorder
        )
        await recorder.wait_for(turn_completes())
        await session.stop_audio_conversation()

    # What the user said, as the server heard it.
    assert wer(QUESTION, recorder.transcript("input")) <= 0.3, recorder.transcript("input")
    assert any(isinstance(m, Transcription) and m.finished for m in recorder.messages)
    assert recorder.transcript("output").strip()
    kinds = recorder.kinds()
    assert kinds[-2:] == ["GenerationComplete", "TurnComplete"], kinds
    assert "Interrupted" not in kinds

    # The reply, as the speaker played it: all of it, 24 kHz mono 16-bit, not silence.
    params, samples = read_wav(tmp_path / "reply.wav")
    assert (params.framerate, params.nchannels, params.sampwidth) == (24_000, 1, 2)
    received = b"".join(m.audio for m in recorder.messages if isinstance(m, Content))
    assert len(samples) * 2 == len(received) == speaker.received_bytes
    assert speaker.dropped_bytes == 0
    assert len(samples) / 24_000 > 1.0
    assert rms(samples) > 0.01


class BargingMicrophone:
    """An ``AudioInput`` that asks for a story, then talks over the reply once it is playing on
    ``speaker`` with plenty of it still queued (the server sends audio ahead of playback)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, first: np.ndarray, second: np.ndarray, speaker: WavFileOutput) -> None:
        self.utterances = [self._pcm(first), self._pcm(second)]
        self.speaker = speaker
        self.queued_at_barge_in: float | None = None
        self._closed = False

    @staticmethod
    def _pcm(audio: np.ndarray) -> bytes:
        return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        size, silence = 3200, bytes(3200)  # 100 ms
        first, second = self.utterances
        for offset in range(0, len(first), size):
            yield first[offset : offset + size].ljust(size, b"\0")
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 60
        while not self._closed and time.monotonic() < deadline:
            played = self.speaker.played_seconds
            queued = self.speaker.received_seconds - played
            if played >= 0.5 and queued >= 1.5:
                self.queued_at_barge_in = queued
                break
            yield silence
            await asyncio.sleep(0.1)
        for offset in range(0, len(second), size):
            yield second[offset : offset + size].ljust(size, b"\0")
            await asyncio.sleep(0.1)
        while not self._closed:
            yield silence
            await asyncio.sleep(0.1)

    def close(self) -> None:
        self._closed = True


async def test_barge_in_flushes_what_was_not_played_yet(
    voice_server: ServerProcess, speech: SpeechMaker, tmp_path: Path
) -> None:
    speaker = WavFileOutput(tmp_path / "reply.wav")
    microphone = BargingMicrophone(speech.say(STORY), speech.say(STOP), speaker)
    recorder = Recorder()
    model = voice_model(
        voice_server, max_output_tokens=40, system_instruction="You tell long stories."
    )
    async with model.connect() as session:
        await session.start_audio_conversation(
            input_device=microphone, output_device=speaker, on_message=recorder
        )
        await recorder.wait_for(lambda ms: any(isinstance(m, Interrupted) for m in ms))
        await recorder.wait_for(turn_completes())
        await session.stop_audio_conversation()

    kinds = recorder.kinds()
    assert kinds[-2:] == ["Interrupted", "TurnComplete"], kinds
    assert microphone.queued_at_barge_in is not None, "the reply never got ahead of playback"
    # The speaker kept what it had played when the user barged in and dropped the rest.
    _, samples = read_wav(tmp_path / "reply.wav")
    played = len(samples) / 24_000
    assert speaker.dropped_seconds > 0.2, (speaker.received_seconds, played)
    assert played == pytest.approx(speaker.received_seconds - speaker.dropped_seconds, abs=0.01)
    assert 0.5 <= played < speaker.received_seconds, (played, speaker.received_seconds)
    assert rms(samples) > 0.01
    print(f"\n[client] barge-in: played {played:.2f}s of {speaker.received_seconds:.2f}s received")


async def test_the_function_call_handler_answers_tool_calls(
    voice_server: ServerProcess, tmp_path: Path
) -> None:
    calls: list[FunctionCall] = []

    def get_weather(call: FunctionCall) -> dict[str, Any]:  # sync: runs in a worker thread
        calls.append(call)
        return {"forecast": "sunny and 21 degrees 8c4f"}

    weather = FunctionDeclaration(
        "get_weather",
        "Get today's weather for a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    model = voice_model(
        voice_server,
        max_output_tokens=20,
        temperature=0,
        tools=[weather],
        # ANY: the server must call a declared function, whatever the tiny model would prefer.
        tool_config={"functionCallingConfig": {"mode": "ANY"}},
        system_instruction="Always call get_weather to answer questions about the weather.",
    )
    recorder = Recorder()
    async with model.connect() as session:
        await session.start_audio_conversation(
            function_call_handler=get_weather,
            input_device=WavFileInput(write_wav(tmp_path / "silence.wav", np.zeros(1600))),
            output_device=WavFileOutput(tmp_path / "reply.wav"),
            on_message=recorder,
        )
        await session.send(WEATHER)
        await recorder.wait_for(
            lambda ms: any(isinstance(m, ToolCall) for m in ms) or turn_completes()(ms)
        )
        assert any(isinstance(m, ToolCall) for m in recorder.messages), recorder.messages
        # BLOCKING call: the answer that uses the result comes before turnComplete.
        await recorder.wait_for(turn_completes())
        await session.stop_audio_conversation()

    # Every call the server sent reached the handler once, in order. After the result (AUTO from
    # the second step on) the model may call again: how many rounds is the model's choice.
    sent = [call for m in recorder.messages if isinstance(m, ToolCall) for call in m.calls]
    assert calls == sent and all(call.name == "get_weather" and call.id for call in calls)
    assert len({call.id for call in calls}) == len(calls)
    assert any("8c4f" in json.dumps(r) for r in voice_server.llm_requests())


# -- the wire, against a scripted server ------------------------------------------------------

Script = Callable[[Any, list[Any]], Awaitable[None]]


async def scripted_server(script: Script) -> tuple[Any, list[Any], list[str]]:
    """A WebSocket server that records every frame and request path, then runs ``script``."""
    frames: list[Any] = []
    paths: list[str] = []

    async def handler(ws: Any) -> None:
        paths.append(ws.request.path)
        frames.append(await ws.recv())
        await script(ws, frames)

    server = await websockets.serve(handler, "127.0.0.1", 0)
    return server, frames, paths


def binary(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


async def test_frames_are_camel_case_json_like_the_js_sdk() -> None:
    async def script(ws: Any, frames: list[Any]) -> None:
        await ws.send(binary({"setupComplete": {"sessionId": "s-1"}}))
        for _ in range(6):
            frames.append(await ws.recv())
        await ws.close(1000)

    server, frames, paths = await scripted_server(script)
    port = server.sockets[0].getsockname()[1]
    model = LiveModel(
        "gemini-live-2.5-flash",
        response_modalities=["AUDIO"],
        system_instruction="Be brief.",
        voice="Kore",
        tools=[FunctionDeclaration("f", "does f", {"type": "object"}), {"googleSearch": {}}],
        input_transcription=True,
        output_transcription=True,
        realtime_input_config={"automaticActivityDetection": {"silenceDurationMs": 300}},
        max_output_tokens=30,
        temperature=0.5,
        session_resumption=True,
        url=f"ws://127.0.0.1:{port}",
        api_key="js-key-1",
    )
    async with server, model.connect() as session:
        assert session.session_id == "s-1"
        await session.send("hello")
        await session.send_text_realtime("typed")
        await session.send_audio_realtime(b"\x00\x01\xfe\xff", rate=16000)
        await session.send_video_realtime(b"\xff\xd8\xff\xe0")
        await session.send_audio_stream_end()
        await session.send_function_responses([FunctionResponse("call-1", "f", {"ok": True})])
        assert [m async for m in session.receive()] == []  # a clean close ends receive()

    assert paths == [
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=js-key-1"
    ]
    assert all(isinstance(frame, str) for frame in frames), "text frames, like the JS SDK"
    assert [json.loads(frame) for frame in frames] == [
        {
            "setup": {
                "model": "models/gemini-live-2.5-flash",
                "generationConfig": {
                    "responseModalities": ["AUDIO"],
                    "temperature": 0.5,
                    "maxOutputTokens": 30,
                    "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
                },
                "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
                "tools": [
                    {
                        "functionDeclarations": [
                            {
                                "name": "f",
                                "description": "does f",
                                "parametersJsonSchema": {"type": "object"},
                            }
                        ]
                    },
                    {"googleSearch": {}},
                ],
                "realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": 300}},
                "inputAudioTranscription": {},
                "outputAudioTranscription": {},
                "sessionResumption": {},
            }
        },
        {
            "clientContent": {
                "turns": [{"role": "user", "parts": [{"text": "hello"}]}],
                "turnComplete": True,
            }
        },
        {"realtimeInput": {"text": "typed"}},
        {"realtimeInput": {"audio": {"data": "AAH+/w==", "mimeType": "audio/pcm;rate=16000"}}},
        {"realtimeInput": {"video": {"data": "/9j/4A==", "mimeType": "image/jpeg"}}},
        {"realtimeInput": {"audioStreamEnd": True}},
        {
            "toolResponse": {
                "functionResponses": [{"id": "call-1", "name": "f", "response": {"ok": True}}]
            }
        },
    ]


async def test_server_messages_become_typed_events_and_close_codes_errors() -> None:
    async def script(ws: Any, frames: list[Any]) -> None:
        await ws.send(binary({"sessionResumptionUpdate": {"newHandle": "h1", "resumable": True}}))
        await ws.send(binary({"setupComplete": {}}))
        audio = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAH-_w"}}
        await ws.send(binary({"serverContent": {"modelTurn": {"parts": [{"text": "Hi"}, audio]}}}))
        await ws.send(  # snake_case and several things in one message
            binary(
                {
                    "server_content": {
                        "turn_complete": True,
                        "output_transcription": {"text": "Hi"},
                    },
                    "toolCall": {"functionCalls": [{"id": "c1", "name": "f", "args": {"x": 1}}]},
                    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2},
                }
            )
        )
        await ws.send(binary({"serverContent": {"interrupted": True}}))
        await ws.send(
            binary({"toolCallCancellation": {"ids": ["c1"]}, "goAway": {"timeLeft": "9.5s"}})
        )
        await ws.send(binary({"someFutureThing": {}}))
        await ws.close(1011, "Internal error encountered.")

    server, _, _ = await scripted_server(script)
    port = server.sockets[0].getsockname()[1]
    received: list[LiveMessage] = []
    async with server, LiveModel(url=f"ws://127.0.0.1:{port}").connect() as session:
        turn = [m async for m in session.receive_turn()]
        with pytest.raises(ServerError) as failed:
            async for message in session.receive():
                received.append(message)

    assert turn[0] == SessionResumptionUpdate(new_handle="h1", resumable=True)
    assert turn[1].text == "Hi" and turn[1].audio == b"\x00\x01\xfe\xff"
    assert turn[2] == Transcription("output", "Hi")
    assert turn[3] == ToolCall([FunctionCall("c1", "f", {"x": 1})]), "before the turn ends"
    assert isinstance(turn[4], TurnComplete) and turn[4].usage is not None
    assert (turn[4].usage.prompt_token_count, turn[4].usage.response_token_count) == (3, 2)
    assert received == [Interrupted(), ToolCallCancellation(["c1"]), GoAway(9.5)]
    assert (failed.value.code, failed.value.reason) == (1011, "Internal error encountered.")


class SilentInput:
    """An ``AudioInput`` with nothing to say: the conversation sends ``audioStreamEnd`` at once."""

    sample_rate = SAMPLE_RATE

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._nothing()

    async def _nothing(self) -> AsyncIterator[bytes]:
        return
        yield b""

    def close(self) -> None:
        pass


class LoggingSpeaker:
    sample_rate = 24_000

    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, pcm: bytes) -> None:
        self.calls.append(f"write {len(pcm)}")

    def flush(self) -> None:
        self.calls.append("flush")

    def close(self) -> None:
        self.calls.append("close")


async def test_audio_conversation_plays_flushes_and_answers_tool_calls() -> None:
    async def script(ws: Any, frames: list[Any]) -> None:
        await ws.send(binary({"setupComplete": {}}))
        audio = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAAAAAAAAAA="}}
        await ws.send(binary({"serverContent": {"modelTurn": {"parts": [audio]}}}))
        await ws.send(binary({"serverContent": {"interrupted": True}}))
        calls = [{"id": "a", "name": "double", "args": {"x": 21}}, {"id": "b", "name": "wait"}]
        await ws.send(binary({"toolCall": {"functionCalls": calls}}))
        await ws.send(binary({"toolCallCancellation": {"ids": ["b"]}}))
        while "toolResponse" not in (frame := json.loads(await ws.recv())):
            frames.append(frame)
        frames.append(frame)
        await ws.send(binary({"serverContent": {"turnComplete": True}}))
        async for frame in ws:  # anything else the client sends, until it closes
            frames.append(json.loads(frame))

    async def handler(call: FunctionCall) -> dict[str, Any]:
        if call.name == "wait":
            await asyncio.sleep(3600)  # cancelled by toolCallCancellation
        return {"doubled": call.args["x"] * 2}

    server, frames, _ = await scripted_server(script)
    port = server.sockets[0].getsockname()[1]
    speaker, recorder = LoggingSpeaker(), Recorder()
    async with server, LiveModel(url=f"ws://127.0.0.1:{port}").connect() as session:
        await session.start_audio_conversation(
            function_call_handler=handler,
            input_device=SilentInput(),
            output_device=speaker,
            on_message=recorder,
        )
        await recorder.wait_for(turn_completes(), timeout=10)
        await asyncio.sleep(0.2)  # a cancelled call must never be answered
        await session.stop_audio_conversation()

    assert speaker.calls == ["write 8", "flush", "close"]
    sent = frames[1:]  # after the setup
    assert {"realtimeInput": {"audioStreamEnd": True}} in sent
    assert [f for f in sent if "toolResponse" in f] == [
        {
            "toolResponse": {
                "functionResponses": [{"id": "a", "name": "double", "response": {"doubled": 42}}]
            }
        }
    ]


def test_wav_file_output_keeps_only_what_was_played(tmp_path: Path) -> None:
    second = bytes(2 * 24_000)
    speaker = WavFileOutput(tmp_path / "out.wav")
    speaker.write(second, now=100.0)  # plays 100.0 → 101.0
    speaker.write(second, now=100.5)  # queued: plays 101.0 → 102.0
    assert speaker.is_playing(now=101.9) and not speaker.is_playing(now=102.0)
    speaker.flush(now=101.25)  # the user barged in a quarter into the second second
    assert speaker.dropped_seconds == pytest.approx(0.75)
    speaker.write(second, now=103.0)  # a new reply starts from silence
    speaker.close()  # and plays out
    _, samples = read_wav(tmp_path / "out.wav")
    assert len(samples) / 24_000 == pytest.approx(2.25)
    assert speaker.received_seconds == pytest.approx(3.0)


async def test_wav_file_input_streams_the_file_then_silence(tmp_path: Path) -> None:
    tone = np.sin(np.arange(SAMPLE_RATE // 4) / 5).astype(np.float32) * 0.5
    microphone = WavFileInput(write_wav(tmp_path / "tone.wav", tone), trailing_silence=0.2)
    started = time.monotonic()
    chunks = [chunk async for chunk in microphone]
    assert time.monotonic() - started >= 0.4, "the file and the silence take real time"
    assert microphone.sample_rate == SAMPLE_RATE and microphone.duration == 0.25
    assert [len(c) for c in chunks] == [3200, 3200, 1600, 3200, 3200]
    assert b"".join(chunks[:3]) == microphone.pcm and not any(b"".join(chunks[3:]))
