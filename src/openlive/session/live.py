"""LiveSession: the state of one conversation and the rules that drive it.

Input arrives through ``handle``; everything to send goes into ``outbox``. A reply runs as one
task tagged with a generation number: interrupting it bumps the number, so anything it queued
but the writer has not sent yet is dropped, and history keeps only what the user got.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..audio.pcm import OUTPUT_MIME
from ..engines.llm import ChatRequest, LLMError, Usage
from ..protocol.client_messages import (
    Blob,
    ClientContent,
    ClientMessage,
    Content,
    ContextUpdate,
    RealtimeInput,
    Setup,
    ToolResponse,
)
from ..protocol.errors import INTERNAL_ERROR_REASON, CloseCode, ProtocolError
from ..protocol.routing import Route
from ..protocol.server_messages import (
    InlineData,
    ModalityTokenCount,
    ModelTurn,
    ServerContent,
    ServerMessage,
    ServerPart,
    SessionResumptionUpdate,
    SetupComplete,
    Transcription,
    UsageMetadata,
)
from .config import NOT_ENABLED, SessionConfig, resolve_config
from .context_window import TokenEstimator, slide_window
from .history import Conversation
from .listener import Listener
from .outbox import Outbox, Outgoing
from .services import SessionServices
from .speech_out import SpeechOutput
from .state import TurnEvent, TurnState, next_state
from .trace import TurnTrace

log = logging.getLogger("openlive.session")

CONTEXT_RESERVE_TOKENS = 256  # room for the reply's first sentences
RECENT_SPEECH_S = 3.0  # how long after playback our own words may still come back as echo


@dataclass
class _Reply:
    """One model reply in progress: what was produced, and what of it reached the user."""

    generation: int
    text_chunks: list[tuple[Outgoing, str]] = field(default_factory=list)
    produced: list[str] = field(default_factory=list)
    usage: Usage | None = None
    speech: SpeechOutput | None = None
    trace: TurnTrace = field(default_factory=TurnTrace)

    def heard_text(self) -> str:
        if self.speech is not None:
            return self.speech.heard_text(time.monotonic())
        return "".join(text for item, text in self.text_chunks if item.sent)


@dataclass
class Frame:
    """The newest camera frame, kept for when a turn ends."""

    data: bytes
    mime_type: str
    received_at: float


def _instruction_text(content: Content | None) -> str:
    return content.text() if content is not None else ""


class LiveSession:
    def __init__(
        self,
        setup: Setup,
        route: Route,
        services: SessionServices,
        *,
        restored: dict[str, Any] | None = None,
    ) -> None:
        self.setup = setup
        self.route = route
        self.services = services
        self.session_id = restored["session_id"] if restored else uuid.uuid4().hex
        self.config: SessionConfig = resolve_config(
            setup, speech_available=services.speech is not None
        )
        self.outbox = Outbox()
        self.state = TurnState.IDLE
        self.conversation = Conversation(_instruction_text(setup.system_instruction))
        if restored is not None:
            self._restore(restored)
        self.tokens = TokenEstimator()
        self.resumption = services.resumption if setup.session_resumption is not None else None
        self._last_handle: tuple[str, dict[str, Any]] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.latest_frame: Frame | None = None
        self._reply: _Reply | None = None
        self._task: asyncio.Task[None] | None = None
        self._respond_when_idle = False
        self._last_spoken: tuple[str, float] = ("", 0.0)  # (text, until) of the previous reply
        self.listener: Listener | None = None
        if services.speech is not None:
            self.listener = Listener(
                services.speech,
                self.config,
                on_speech_started=self._on_speech_started,
                on_transcript=self._on_input_transcript,
                on_user_turn=self._on_spoken_turn,
                model_is_audible=self._model_is_audible,
                recent_speech=self._recent_speech,
                echo_guard_s=services.echo_guard_s,
            )

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the handshake reply. ``setupComplete`` is always the first message."""
        self.outbox.put(ServerMessage(setup_complete=SetupComplete(session_id=self.session_id)))
        self._publish_handle()

    async def aclose(self) -> None:
        """The connection is gone: stop whatever runs, quietly, and keep the last handle alive."""
        if self.listener is not None:
            await self.listener.aclose()
        task, self._task = self._task, None
        if task is not None and not task.done():
            self.outbox.current_generation += 1
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self.resumption is not None and self._last_handle is not None:
            handle, snapshot = self._last_handle
            try:
                await self.resumption.refresh(handle, snapshot)
            except Exception:
                log.exception(
                    "session %s: could not refresh its resumption handle", self.session_id
                )

    # -- resumption ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to continue this conversation elsewhere."""
        return {
            "session_id": self.session_id,
            "model": self.setup.model,
            "setup": self.setup.model_dump(mode="json", by_alias=True, exclude_none=True),
            "system_instruction": self.conversation.system_instruction,
            "entries": [dict(entry) for entry in self.conversation.entries],
        }

    def _restore(self, snapshot: dict[str, Any]) -> None:
        """Continue a stored conversation. The new setup may change anything but the model; what
        it leaves out (system instruction, tools) comes from the stored one."""
        stored = Setup.model_validate(snapshot.get("setup") or {})
        if self.setup.system_instruction is None:
            self.conversation.system_instruction = snapshot.get("system_instruction", "")
        if not self.setup.tools:
            self.setup.tools = stored.tools
        self.conversation.entries = [dict(entry) for entry in snapshot.get("entries", [])]

    def _publish_handle(self) -> None:
        """Store a snapshot, then (only then) tell the client its new handle."""
        if self.resumption is None:
            return
        snapshot = self.snapshot()
        resumption = self.resumption

        async def publish() -> None:
            try:
                handle = await resumption.save(snapshot)
            except Exception:
                log.exception("session %s: could not store a resumption snapshot", self.session_id)
                return
            self._last_handle = (handle, snapshot)
            self.outbox.put(
                ServerMessage(
                    session_resumption_update=SessionResumptionUpdate(
                        new_handle=handle, resumable=True
                    )
                )
            )

        task = asyncio.create_task(publish())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- input --------------------------------------------------------------------------------

    async def handle(self, message: ClientMessage) -> None:
        match message:
            case Setup():
                raise ProtocolError("Invalid request: setup must be sent only once, first.")
            case ClientContent():
                await self._on_client_content(message)
            case RealtimeInput():
                await self._on_realtime_input(message)
            case ToolResponse():
                self._on_tool_response(message)
            case ContextUpdate():
                self._on_context_update(message)

    async def _on_client_content(self, message: ClientContent) -> None:
        # New content while the model speaks interrupts it (PROTOCOL.md §4.2).
        if message.turns or message.turn_complete:
            await self._interrupt()
        for content in message.turns:
            self.conversation.append_content(content)
        if message.turn_complete:
            self._start_reply()

    async def _on_realtime_input(self, message: RealtimeInput) -> None:
        for blob in [message.audio, message.video, *message.media_chunks]:
            if blob is not None:
                await self._on_blob(blob)
        if message.activity_start is not None:
            await self._require_listener().activity_start()
        if message.activity_end is not None:
            await self._require_listener().activity_end()
        if message.audio_stream_end:
            await self._require_listener().audio_stream_end()
        if message.text:
            if self.listener is not None:
                await self.listener.settle()  # a spoken turn that ended first is answered first
            await self._on_user_text(message.text)

    async def _on_blob(self, blob: Blob) -> None:
        kind = blob.mime_type.split("/", 1)[0].lower()
        if kind == "image":
            self.latest_frame = Frame(blob.data, blob.mime_type, time.monotonic())
        elif kind == "audio" or not blob.mime_type:
            await self._require_listener().feed(blob.data, blob.mime_type or "audio/pcm")
        else:
            raise ProtocolError(f"Unsupported media MIME type {blob.mime_type[:40]!r}.")

    def _on_tool_response(self, message: ToolResponse) -> None:
        for response in message.function_responses:
            raise ProtocolError(
                f"Invalid toolResponse: no pending function call with id {response.id!r}."
            )

    def _on_context_update(self, message: ContextUpdate) -> None:
        if message.system_instruction is not None:
            self.conversation.system_instruction = _instruction_text(message.system_instruction)
        if message.tools is not None:
            self.setup.tools = message.tools.tools

    async def _on_user_text(self, text: str, trace: TurnTrace | None = None) -> None:
        if self.state is not TurnState.IDLE and not self.config.interrupts:
            self.conversation.append("user", text)
            self._respond_when_idle = True
            return
        await self._interrupt()
        self.conversation.append("user", text)
        self._start_reply(trace)

    # -- listener callbacks -------------------------------------------------------------------

    def _model_is_audible(self) -> bool:
        reply = self._reply
        return (
            reply is not None
            and reply.speech is not None
            and reply.speech.clock.is_playing(time.monotonic())
        )

    def _recent_speech(self) -> str:
        """What we said in the last few seconds: the reply now playing, or the one just played."""
        reply = self._reply
        if reply is not None and reply.speech is not None:
            return " ".join(clause.text for clause in reply.speech.clauses)
        text, until = self._last_spoken
        return text if time.monotonic() < until + RECENT_SPEECH_S else ""

    async def _on_speech_started(self) -> None:
        """Barge-in: the VAD confirmed speech. Interrupt at once; do not wait for ASR."""
        if self.config.interrupts and self.state is not TurnState.IDLE:
            await self._interrupt()

    def _on_input_transcript(self, text: str, finished: bool) -> None:
        if self.config.input_transcription and (text or finished):
            self._send(
                ServerContent(input_transcription=Transcription(text=text, finished=finished)),
                None,
            )

    async def _on_spoken_turn(self, text: str, trace: TurnTrace) -> None:
        await self._on_user_text(text, trace)

    def _require_listener(self) -> Listener:
        if self.listener is None:
            raise ProtocolError(NOT_ENABLED, CloseCode.POLICY_VIOLATION)
        return self.listener

    # -- replies ------------------------------------------------------------------------------

    def _start_reply(self, trace: TurnTrace | None = None) -> None:
        if self._context_is_full():
            return
        self._transition(TurnEvent.USER_TURN_COMPLETE)
        reply = _Reply(generation=self.outbox.current_generation, trace=trace or TurnTrace())
        self._reply = reply
        self._task = asyncio.create_task(self._run_reply(reply), name=f"reply-{reply.generation}")

    async def _run_reply(self, reply: _Reply) -> None:
        try:
            if self.config.modality == "AUDIO":
                await self._speak(reply)
            else:
                await self._write(reply)
        except Exception as error:
            log.error(
                "session %s: reply failed: %s",
                self.session_id,
                error,
                exc_info=not isinstance(error, LLMError),
            )
            self._finish_reply(reply, TurnEvent.FAILED)
            self.outbox.close(CloseCode.INTERNAL_ERROR, INTERNAL_ERROR_REASON)
            return
        self._send(ServerContent(generation_complete=True), reply.generation)
        self._transition(TurnEvent.GENERATION_DONE)
        # An audio turn is over when the client has played it (PROTOCOL.md §6.2, steps 3 → 4).
        end = reply.speech.clock.end_time() if reply.speech else None
        if end is not None:
            await asyncio.sleep(max(0.0, end - time.monotonic()))
        self._finish_reply(reply, TurnEvent.PLAYBACK_DONE)

    async def _fragments(self, reply: _Reply) -> AsyncIterator[str]:
        reply.trace.reply_start = time.monotonic()
        stream = self.services.llm.stream(self._chat_request())
        async with contextlib.aclosing(stream):
            async for delta in stream:
                if delta.usage is not None:
                    reply.usage = delta.usage
                if delta.text:
                    if reply.trace.first_token is None:
                        reply.trace.first_token = time.monotonic()
                    reply.produced.append(delta.text)
                    yield delta.text

    async def _write(self, reply: _Reply) -> None:
        async for text in self._fragments(reply):
            part = ServerPart(text=text)
            item = self._send(ServerContent(model_turn=ModelTurn(parts=[part])), reply.generation)
            reply.text_chunks.append((item, text))

    async def _speak(self, reply: _Reply) -> None:
        speech = self.services.speech
        assert speech is not None
        generation = reply.generation

        def send_audio(_pcm: bytes, data: str) -> None:
            if reply.trace.first_audio is None:
                reply.trace.first_audio = time.monotonic()
            part = ServerPart(inline_data=InlineData(mime_type=OUTPUT_MIME, data=data))
            self._send(ServerContent(model_turn=ModelTurn(parts=[part])), generation)

        def send_transcript(text: str) -> None:
            if self.config.output_transcription:
                self._send(ServerContent(output_transcription=Transcription(text=text)), generation)

        reply.speech = SpeechOutput(
            tts=speech.tts,
            fast_tts=speech.fast_tts,
            voice=self.config.voice,
            language=self.config.language,
            executor=speech.tts_executor,
            send_audio=send_audio,
            send_transcript=send_transcript,
        )
        await reply.speech.speak(self._fragments(reply))

    def _finish_reply(self, reply: _Reply, event: TurnEvent) -> None:
        """End the turn: history gets what the user received, the client gets turnComplete."""
        completed = event is TurnEvent.PLAYBACK_DONE
        reply.trace.log(self.session_id)
        if self.services.observe_turn is not None:
            self.services.observe_turn(self.config.modality, event.value, reply.trace.stages_ms())
        if reply.speech is not None:
            end = reply.speech.clock.end_time() or time.monotonic()
            self._last_spoken = (" ".join(c.text for c in reply.speech.clauses), end)
        self.conversation.append(
            "assistant", "".join(reply.produced) if completed else reply.heard_text()
        )
        self.outbox.put(
            ServerMessage(
                server_content=ServerContent(turn_complete=True), usage_metadata=self._usage(reply)
            ),
            reply.generation if completed else None,
        )
        self._reply = None
        self._task = None
        self._transition(event)
        self._fit_context(reply.usage)
        self._publish_handle()
        if self._respond_when_idle and completed:
            self._respond_when_idle = False
            self._start_reply()

    async def _interrupt(self) -> None:
        """Cut the current reply: nothing more of it is sent, history keeps what was heard."""
        reply, task = self._reply, self._task
        if reply is None or task is None or task.done():
            return
        self.outbox.current_generation += 1  # from here on, queued chunks of the reply are stale
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._send(ServerContent(interrupted=True), None)
        self._finish_reply(reply, TurnEvent.INTERRUPTED)

    # -- context window -----------------------------------------------------------------------

    def _fit_context(self, usage: Usage | None) -> None:
        """Slide the window when the client asked for compression and the context passed the
        trigger (PROTOCOL.md §9): oldest turns go first, the system instruction stays."""
        if usage is not None:
            self.tokens.calibrate(self.conversation, usage.prompt_tokens)
        compression = self.setup.context_window_compression
        if compression is None:
            return
        trigger = compression.trigger_tokens or int(self.services.context_tokens * 0.8)
        window = compression.sliding_window
        target = (window.target_tokens if window else None) or trigger // 2
        if self.tokens.estimate(self.conversation) > trigger:
            dropped = slide_window(self.conversation, self.tokens, target)
            log.info(
                "session %s: context compressed, %d old entries dropped", self.session_id, dropped
            )

    def _context_is_full(self) -> bool:
        """Without compression, a conversation that no longer fits ends cleanly, with a reason,
        instead of failing inside the engine."""
        if self.setup.context_window_compression is not None:
            self._fit_context(None)
            return False
        needed = self.tokens.estimate(self.conversation) + CONTEXT_RESERVE_TOKENS
        if needed <= self.services.context_tokens:
            return False
        self.outbox.close(
            CloseCode.POLICY_VIOLATION,
            f"Context window exhausted ({needed} of {self.services.context_tokens} tokens); "
            "enable contextWindowCompression to continue.",
        )
        return True

    # -- helpers ------------------------------------------------------------------------------

    def _send(self, content: ServerContent, generation: int | None) -> Outgoing:
        return self.outbox.put(ServerMessage(server_content=content), generation)

    def _transition(self, event: TurnEvent) -> None:
        self.state = next_state(self.state, event)

    def _chat_request(self) -> ChatRequest:
        config = self.setup.generation_config
        return ChatRequest(
            messages=self.conversation.messages(),
            temperature=config.temperature,
            top_p=config.top_p,
            top_k=config.top_k,
            max_tokens=config.max_output_tokens or self.services.default_max_tokens,
            seed=config.seed,
            stop=list(config.stop_sequences),
            presence_penalty=config.presence_penalty,
            frequency_penalty=config.frequency_penalty,
        )

    def _usage(self, reply: _Reply) -> UsageMetadata:
        if reply.usage is not None:
            prompt, response = reply.usage.prompt_tokens, reply.usage.completion_tokens
            cached = reply.usage.cached_tokens or None
        else:  # interrupted before the engine reported usage: count what was streamed
            prompt, response, cached = 0, len(reply.produced), None
        details = [ModalityTokenCount(modality=self.config.modality, token_count=response)]
        usage = UsageMetadata(
            prompt_token_count=prompt,
            cached_content_token_count=cached,
            total_token_count=prompt + response,
            prompt_tokens_details=[ModalityTokenCount(modality="TEXT", token_count=prompt)],
        )
        if self.route.uses_vertex_usage_names:
            usage.candidates_token_count = response
            usage.candidates_tokens_details = details
        else:
            usage.response_token_count = response
            usage.response_tokens_details = details
        return usage
