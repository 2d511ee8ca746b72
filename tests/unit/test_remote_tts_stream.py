"""The ``openai:`` TTS engine's stream on a real socket: audio arrives chunk by chunk as the
server sends it, odd byte counts never split a sample, and cancelling the consumer (barge-in)
closes the request while the server is still sending. The server here is a small loopback HTTP
server of the test's own (not a speech model): it sends known PCM slowly, so what the engine
does with a stream is observable; tests/e2e/test_remote_speech.py runs a real Kokoro server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import pytest

from openlive.engines.tts.base import StreamingTTS, TTSError
from openlive.engines.tts.openai_compat import OpenAICompatibleTTS, parse_voice_map

SAMPLES = np.arange(-3000, 3000, 7, dtype=np.int16)


@dataclass
class SlowSpeechServer:
    """Answers ``POST /v1/audio/speech`` with SAMPLES in 333-byte pieces, one every 20 ms."""

    pieces: int = 0
    bodies: list[dict] = field(default_factory=list)
    closed_early: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 200
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        self.bodies.append(json.loads(await reader.readexactly(length)))
        if self.status != 200:
            body = b'{"error": "no such voice"}'
            writer.write(
                b"HTTP/1.1 %d Bad\r\ncontent-length: %d\r\n\r\n%s" % (self.status, len(body), body)
            )
            await writer.drain()
            writer.close()
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: audio/pcm\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        data = SAMPLES.astype("<i2").tobytes()
        try:
            for start in range(0, len(data), 333):
                piece = data[start : start + 333]
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                self.pieces += 1
                await asyncio.sleep(0.02)
                if reader.at_eof():
                    raise ConnectionResetError
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            self.closed_early.set()
        finally:
            writer.close()


@pytest.fixture
async def speech_server() -> AsyncIterator[SlowSpeechServer]:
    state = SlowSpeechServer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def engine_for(state: SlowSpeechServer, **kwargs: object) -> OpenAICompatibleTTS:
    return OpenAICompatibleTTS(f"http://127.0.0.1:{state.port}/v1", **kwargs)  # type: ignore[arg-type]


async def test_stream_yields_the_servers_pcm_in_pieces(speech_server: SlowSpeechServer) -> None:
    tts = engine_for(speech_server)
    assert isinstance(tts, StreamingTTS)
    chunks = [chunk async for chunk in tts.stream("Hello there.", voice="Kore")]
    await tts.aclose()
    assert len(chunks) > 1
    assert all(chunk.dtype == np.int16 for chunk in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), SAMPLES)
    [body] = speech_server.bodies
    assert body["response_format"] == "pcm" and body["stream"] is True
    assert body["input"] == "Hello there."
    assert body["voice"] == "af_kore"  # the Kokoro style the embedded engine uses for Kore


async def test_cancelling_the_consumer_closes_the_request(speech_server: SlowSpeechServer) -> None:
    tts = engine_for(speech_server)
    started = asyncio.Event()

    async def speak() -> None:
        async for _ in tts.stream("A long story about a dragon.", voice="Puck"):
            started.set()

    task = asyncio.create_task(speak())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10):
        await speech_server.closed_early.wait()
    await tts.aclose()
    assert speech_server.pieces < -(-len(SAMPLES) * 2 // 333)


async def test_a_refusal_is_a_tts_error(speech_server: SlowSpeechServer) -> None:
    speech_server.status = 400
    tts = engine_for(speech_server)
    with pytest.raises(TTSError, match="HTTP 400"):
        async for _ in tts.stream("Hello.", voice="Puck"):
            pass
    await tts.aclose()


async def test_voice_map_and_text_without_words(speech_server: SlowSpeechServer) -> None:
    tts = engine_for(speech_server, voice_map=parse_voice_map("puck=echo, *=alloy"))
    assert tts.server_voice("Puck") == "echo"
    assert tts.server_voice("Kore") == "alloy"
    assert [chunk async for chunk in tts.stream(" ... ", voice="Puck")] == []
    assert speech_server.bodies == []  # nothing to say: no request
    with pytest.raises(TTSError):
        parse_voice_map("Puck")
    await tts.aclose()
