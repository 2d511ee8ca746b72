"""A LiveSession on a bench: a clock moved by hand, a model that follows a script, a voice that
takes no time, and a writer that drains the outbox the way server/connection.py does.

Everything between the client's JSON and the server's JSON is the real code: the decoder, the
session, its turn rules, the reply pipeline, the tool calling, the speech output, the encoder.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openlive.audio.pcm import OUTPUT_RATE
from openlive.engines.llm import ChatDelta, ChatRequest, Usage
from openlive.engines.llm.tool_calling import NativeToolCalling
from openlive.protocol.codec import decode_client_message, encode_server_message
from openlive.protocol.routing import Route, Surface
from openlive.session import Close, LiveSession, SessionServices, SpeechServices
from openlive.session.outbox import Outgoing
from openlive.session.pieces import ModelText
from openlive.session.speech_out import SpeechOutput

# -- time -------------------------------------------------------------------------------------


class FakeClock:
    """Time stands still until a test moves it; sleepers wake in deadline order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            future.set_result(None)
        else:
            heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time on, waking each sleeper at its own deadline, and let the loop settle."""
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
                await settle()
        self._now = target
        await settle()


async def settle(rounds: int = 100) -> None:
    """Let every task that can run, run, until the session waits for the clock or the client."""
    for _ in range(rounds):
        await asyncio.sleep(0)


# -- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """The model calls a function."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


class Hang:
    """The engine stops answering, mid-stream, forever."""


@dataclass(frozen=True)
class Fail:
    """The engine raises."""

    error: Exception


@dataclass(frozen=True)
class Wait:
    """The engine pauses until the test opens the gate."""

    gate: asyncio.Event


Step = list[str | Call | Hang | Fail | Wait]


class ScriptedLLM:
    """An LLMEngine that answers each request with the next step of its script (then "OK.")."""

    description = "scripted"
    is_placeholder = False

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[ChatRequest] = []

    async def load(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else ["OK."]
        calls = 0
        for item in step:
            await asyncio.sleep(0)
            match item:
                case str():
                    yield ChatDelta(text=item)
                case Call(name=name, args=args):
                    piece = {
                        "index": calls,
                        "id": f"native-{calls}",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                    calls += 1
                    yield ChatDelta(tool_calls=(piece,))
                case Hang():
                    await asyncio.Event().wait()
                case Fail(error=error):
                    raise error
                case Wait(gate=gate):
                    await gate.wait()
        yield ChatDelta(usage=Usage(prompt_tokens=20, completion_tokens=len(step)))


# -- the voice --------------------------------------------------------------------------------

WORD_S = 0.5  # every spoken word lasts half a second


class WordTTS:
    """Half a second of quiet tone per word, at once. ``fail_on`` makes a clause raise."""

    sample_rate = OUTPUT_RATE
    description = "words"

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.spoken: list[str] = []

    def load(self) -> None:
        pass

    def voices(self) -> list[str]:
        return ["Puck"]

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError(f"synthesis failed on {text!r}")
        self.spoken.append(text)
        return np.full(int(len(text.split()) * WORD_S * OUTPUT_RATE), 100, dtype=np.int16)


@dataclass
class HeardText:
    text: str
    language: str = "en"


class ScriptedASR:
    """Every recognised turn is the next of ``texts``."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> HeardText:
        return HeardText(self.texts.pop(0) if self.texts else "")


class InlineExecutor(Executor):
    """Runs the work at once, on the loop's thread: the bench has no time to wait for."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


def speech_services(tts: WordTTS | None = None, asr: ScriptedASR | None = None) -> SpeechServices:
    executor = InlineExecutor()
    return SpeechServices(
        vad=None,  # sessions on the bench bracket their turns by hand (activityStart/End)
        turn=None,
        asr=asr or ScriptedASR(),
        tts=tts or WordTTS(),
        fast_tts=None,
        asr_executor=executor,
        tts_executor=executor,
    )


# -- the session ------------------------------------------------------------------------------


def client_frame(message: dict[str, Any]) -> Any:
    return decode_client_message(json.dumps(message)).message


class Bench:
    """One session and the client's view of it: every message as it crossed the wire."""

    def __init__(
        self,
        setup: dict[str, Any],
        llm: ScriptedLLM,
        *,
        speech: SpeechServices | None = None,
        restored: dict[str, Any] | None = None,
        **services: Any,
    ) -> None:
        self.clock = FakeClock()
        self.llm = llm
        self.services = SessionServices(
            llm=llm,
            speech=speech,
            tool_calling=NativeToolCalling(),
            clock=self.clock,
            **services,
        )
        route = Route(Surface.GEMINI, "v1beta")
        self.session = LiveSession(
            client_frame({"setup": setup}), route, self.services, restored=restored
        )
        self.received: list[dict[str, Any]] = []
        self.closed: Close | None = None
        self._writer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Bench:
        self.session.start()
        self.resume_writer()
        await settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.aclose()
        self.pause_writer()

    def pause_writer(self) -> None:
        """The socket is slow: what the session queues now waits in the outbox."""
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def resume_writer(self) -> None:
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        """server/connection.py's writer: stale items never come out of the outbox."""
        while True:
            item = await self.session.outbox.get()
            if isinstance(item, Close):
                self.closed = item
                return
            self.received.append(json.loads(encode_server_message(item.message)))
            item.sent = True

    async def send(self, message: dict[str, Any]) -> None:
        await self.session.handle(client_frame(message))
        await settle()

    async def say(self, text: str) -> None:
        await self.send({"realtimeInput": {"text": text}})

    def contents(self) -> list[dict[str, Any]]:
        return [m["serverContent"] for m in self.received if "serverContent" in m]

    def kinds(self) -> list[str]:
        """The client's view in short: one word per message that matters to a turn."""
        names = []
        for message in self.received:
            content = message.get("serverContent", {})
            if "toolCall" in message:
                names.append("toolCall")
            elif "toolCallCancellation" in message:
                names.append("toolCallCancellation")
            elif "modelTurn" in content:
                part = content["modelTurn"]["parts"][0]
                names.append("text" if "text" in part else "audio")
            for flag in ("interrupted", "generationComplete", "turnComplete"):
                if content.get(flag):
                    names.append(flag)
        return names

    def text(self) -> str:
        return "".join(
            part.get("text", "")
            for content in self.contents()
            for part in content.get("modelTurn", {}).get("parts", [])
        )

    def history(self) -> list[tuple[str, str]]:
        """(role, content) of the conversation's plain entries, calls shown by name."""
        rows = []
        for entry in self.session.conversation.entries:
            if entry.get("tool_calls"):
                names = ",".join(c["function"]["name"] for c in entry["tool_calls"])
                rows.append(("call", names))
            else:
                rows.append((entry["role"], str(entry.get("content"))))
        return rows

    async def until(self, condition: Callable[[], bool], *, step_s: float = 0.1) -> None:
        """Move the clock on in small steps until ``condition`` holds (at most a minute)."""
        for _ in range(600):
            if condition():
                return
            await self.clock.advance(step_s)
        raise AssertionError("the condition never held")

    async def stored(self, *, updates: int) -> None:
        """Wait (in real time: the store works in a thread) for that many handles."""
        for _ in range(500):
            if sum("sessionResumptionUpdate" in m for m in self.received) >= updates:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"fewer than {updates} resumption handles came")

    def count(self, kind: str) -> int:
        return self.kinds().count(kind)


TEXT_SETUP = {"model": "models/m", "generationConfig": {"responseModalities": ["TEXT"]}}
AUDIO_SETUP = {
    "model": "models/m",
    "generationConfig": {"responseModalities": ["AUDIO"]},
    "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
    "outputAudioTranscription": {},
}


def with_tools(setup: dict[str, Any], *declarations: dict[str, Any]) -> dict[str, Any]:
    return {**setup, "tools": [{"functionDeclarations": list(declarations)}]}


LOOKUP = {"name": "lookup", "description": "look something up"}
BACKGROUND = {"name": "remind", "description": "set a reminder", "behavior": "NON_BLOCKING"}


async def model_pieces(*texts: str) -> AsyncIterator[ModelText]:
    """The model's text of one reply, piece by piece, as SpeechOutput.deliver takes it."""
    for text in texts:
        yield ModelText(text, step=0)


def speech_output(
    tts: Any,
    fast: WordTTS | None,
    *,
    clock: FakeClock | None = None,
    sent: list[Any] | None = None,
    transcribe: bool = False,
) -> SpeechOutput:
    """A reply's SpeechOutput alone, in voice "Puck"; what it emits is appended to ``sent``."""

    def emit(message: Any) -> Outgoing:
        if sent is not None:
            sent.append(message)
        return Outgoing(message)

    return SpeechOutput(
        tts=tts,
        fast_tts=fast,
        voice="Puck",
        language=None,
        executor=InlineExecutor(),
        emit=emit,
        clock=clock or FakeClock(),
        transcribe=transcribe,
    )
