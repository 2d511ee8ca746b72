"""Speculation: the reply starts at the first pause, before the turn is confirmed.

When the user pauses, the listener recognises what they said so far at once (the speculative
transcript). If the session is idle, the reply's first request is built from it, exactly as the
reply would build it, and started on the LLM; its words collect in a buffer, and the first
clause of a plain answer is synthesised too. Rules:

* Nothing speculative reaches the wire or history: it is only a request and a buffer.
* It is used when the reply makes the *same* request (the turn was confirmed with the same
  transcript, nothing else changed): the buffered words come out at once, the rest as it comes.
  Any other request throws it away and runs as usual, so a wrong guess costs only CPU.
* The user going on (speech resumes after the pause), a dropped turn, or a new guess throw it
  away too; an unclaimed guess is dropped after ``UNCLAIMED_S``.

The hit rate is logged per turn ("speculation: hit" / "speculation: miss (...)"), and counted
in ``hits`` / ``misses``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from ..engines.llm import ChatDelta, ChatRequest, LLMEngine
from ..engines.tts.base import TTSEngine
from ..engines.tts.text import ClauseSplitter, speakable

log = logging.getLogger("openlive.speculation")

UNCLAIMED_S = 5.0  # a guess nobody asked for by then was wrong


@dataclass
class _Ahead:
    request: ChatRequest
    deltas: list[ChatDelta] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None


@dataclass(frozen=True)
class FirstClauseVoice:
    """What the first clause of a speculative answer is spoken with (the session's voice)."""

    tts: TTSEngine
    voice: str
    language: str | None
    executor: Executor
    first_clause_words: int


class SpeculativeLLM:
    """A session's LLM: the engine, plus at most one request started ahead of its reply."""

    def __init__(self, inner: LLMEngine) -> None:
        self.inner = inner
        self.description = inner.description
        self.is_placeholder = inner.is_placeholder
        self._ahead: _Ahead | None = None
        self.hits = 0
        self.misses = 0
        self.prefetched: dict[str, asyncio.Future[np.ndarray]] = {}
        """First clauses synthesised ahead, by their text (session/speech_out.py takes them)."""

    # -- the guess ------------------------------------------------------------------------------

    def prestart(self, request: ChatRequest, voice: FirstClauseVoice | None = None) -> None:
        """Start ``request`` now; keep its output for a reply that asks the same."""
        self.discard("a newer guess")
        ahead = _Ahead(request)
        ahead.task = asyncio.ensure_future(self._pump(ahead, voice))
        ahead.expiry = asyncio.get_running_loop().call_later(UNCLAIMED_S, self._expire, ahead)
        self._ahead = ahead

    def _expire(self, ahead: _Ahead) -> None:
        if self._ahead is ahead:
            self.discard("nobody claimed it")

    def discard(self, why: str) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if ahead.task is not None:
                ahead.task.cancel()
            if ahead.expiry is not None:
                ahead.expiry.cancel()
            log.debug("speculative reply thrown away: %s", why)
        for future in self.prefetched.values():
            future.cancel()
        self.prefetched.clear()

    async def _pump(self, ahead: _Ahead, voice: FirstClauseVoice | None) -> None:
        splitter = ClauseSplitter(first_clause_words=voice.first_clause_words) if voice else None
        loop = asyncio.get_running_loop()
        stream = self.inner.stream(ahead.request)
        try:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for delta in stream:
                    ahead.deltas.append(delta)
                    ahead.changed.set()
                    if splitter is None or voice is None or not delta.text:
                        continue
                    if clauses := splitter.feed(delta.text):
                        splitter = None  # only the first clause is worth synthesising
                        self._prefetch(loop, voice, speakable(clauses[0]))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the reply that claims it raises it, as the engine would
            ahead.error = error
        ahead.done = True
        ahead.changed.set()

    def _prefetch(
        self, loop: asyncio.AbstractEventLoop, voice: FirstClauseVoice, text: str
    ) -> None:
        if not text:
            return

        def synthesize() -> np.ndarray:
            return voice.tts.synthesize(text, voice=voice.voice, language=voice.language)

        future = loop.run_in_executor(voice.executor, synthesize)
        # A clause thrown away unclaimed may still fail in its worker: retrieve that.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.prefetched[text] = future

    # -- the reply --------------------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            source: AsyncIterator[ChatDelta] = self.inner.stream(request)
        elif ahead.request == request:
            if ahead.expiry is not None:
                ahead.expiry.cancel()
            self.hits += 1
            log.info("speculation: hit (%d buffered pieces)", len(ahead.deltas))
            source = self._replay(ahead)
        else:
            self.misses += 1
            log.info("speculation: miss (the reply's request differs)")
            self._ahead = ahead
            self.discard("the reply asked for something else")
            source = self.inner.stream(request)
        async with contextlib.aclosing(source):  # type: ignore[type-var]
            async for delta in source:
                yield delta

    async def _replay(self, ahead: _Ahead) -> AsyncIterator[ChatDelta]:
        index = 0
        try:
            while True:
                while index < len(ahead.deltas):
                    yield ahead.deltas[index]
                    index += 1
                if ahead.done:
                    if ahead.error is not None:
                        raise ahead.error
                    return
                ahead.changed.clear()
                await ahead.changed.wait()
        finally:
            if ahead.task is not None and not ahead.done:
                ahead.task.cancel()  # the reply was cut off: the engine stops at its next token

    async def load(self) -> None:
        await self.inner.load()

    async def aclose(self) -> None:
        self.discard("the session ended")


class RequestRecorder:
    """An LLM that writes nothing and keeps what it is asked: the exact request a reply's first
    step makes (tool calling rewrites it) without running it."""

    description = "records requests"
    is_placeholder = False

    def __init__(self) -> None:
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        self.requests.append(request)
        return
        yield  # an async generator that yields nothing

    async def load(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
