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
from ..engines.llm.tool_calling import CallRecord, ModelCall, ToolChoice
from ..engines.search import SearchError
from ..protocol.client_messages import (
    Blob,
    ClientContent,
    ClientMessage,
    Content,
    ContextUpdate,
    FunctionResponse,
    RealtimeInput,
    Setup,
    ToolResponse,
)
from ..protocol.errors import INTERNAL_ERROR_REASON, CloseCode, ProtocolError
from ..protocol.routing import Route
from ..protocol.server_messages import (
    FunctionCallOut,
    InlineData,
    ModalityTokenCount,
    ModelTurn,
    ServerContent,
    ServerMessage,
    ServerPart,
    SessionResumptionUpdate,
    SetupComplete,
    ToolCall,
    ToolCallCancellation,
    Transcription,
    UsageMetadata,
)
from .camera import WHOLE_TURN_COVERAGES, Camera, analysis_resolution, attach_note, camera_tokens
from .config import NOT_ENABLED, SessionConfig, resolve_config
from .context_window import TokenEstimator, slide_window
from .grounding import grounding_metadata, search_context
from .history import Conversation
from .listener import Listener
from .outbox import Outbox, Outgoing
from .services import SessionServices
from .speech_out import SpeechOutput
from .state import TurnEvent, TurnState, next_state
from .tools import PendingCall, PendingCalls, ToolBox, new_call_id
from .trace import TurnTrace

log = logging.getLogger("openlive.session")

CONTEXT_RESERVE_TOKENS = 256  # room for the reply's first sentences
RECENT_SPEECH_S = 3.0  # how long after playback our own words may still come back as echo
MAX_TOOL_STEPS = 4  # rounds of function calls in one reply; then the model must answer
CANCELLED_RESULT = {"error": "cancelled: the user interrupted before the result arrived"}


@dataclass
class _Reply:
    """One model reply in progress: what was produced, and what of it reached the user."""

    generation: int
    text_chunks: list[tuple[Outgoing, str]] = field(default_factory=list)
    produced: list[str] = field(default_factory=list)
    usage: Usage | None = None
    speech: SpeechOutput | None = None
    trace: TurnTrace = field(default_factory=TurnTrace)
    # Function calls (session/tools.py): what is already in history, and this turn's search.
    trigger: TurnEvent = TurnEvent.USER_TURN_COMPLETE
    search_query: str = ""
    search_context: tuple[int, str] | None = None  # (message index, text) for this turn only
    last_usage: Usage | None = None  # the latest request's: it measures the whole context
    call_steps: int = 0
    answered: set[str] = field(default_factory=set)  # ModelCall.key() of calls with results
    committed: int = 0  # fragments of ``produced`` already in history (said before a call)
    heard_skip: str = ""  # text the user heard that history already has (or the filler)

    def heard_text(self) -> str:
        if self.speech is not None:
            return self.speech.heard_text(time.monotonic())
        return "".join(text for item, text in self.text_chunks if item.sent)

    def heard_after_calls(self) -> str:
        """What the user heard of the reply since its last function call."""
        heard = self.heard_text()
        if not self.heard_skip or heard.startswith(self.heard_skip):
            return heard[len(self.heard_skip) :].lstrip()
        return " ".join(heard.split()[len(self.heard_skip.split()) :])

    def add_usage(self, usage: Usage) -> None:
        self.usage = usage if self.usage is None else self.usage + usage
        self.last_usage = usage


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
        self.pending = PendingCalls()
        if restored is not None:
            self._restore(restored)
        self.tokens = TokenEstimator()
        self.resumption = services.resumption if setup.session_resumption is not None else None
        self._last_handle: tuple[str, dict[str, Any]] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.camera: Camera | None = None
        if services.vision is not None:
            self.camera = Camera(
                services.vision,
                resolution=analysis_resolution(setup.generation_config.media_resolution),
                whole_turn=self.config.turn_coverage in WHOLE_TURN_COVERAGES,
            )
        self._reply: _Reply | None = None
        self._task: asyncio.Task[None] | None = None
        self._respond_when_idle = False
        self._last_spoken: tuple[str, float] = ("", 0.0)  # (text, until) of the previous reply
        self.tools = ToolBox(setup.tools, setup.tool_config)
        # Messages that arrive while a reply runs (non-blocking results, NO_INTERRUPTION turns):
        # history gets them after the reply, in arrival order.
        self._held_messages: list[dict[str, Any]] = []
        self._search_query = ""  # the user's latest words, searched when the reply starts
        if self.tools.google_search and services.search is None:
            log.warning(
                "session %s: googleSearch requested but no web search is configured "
                "(set OPENLIVE_SEARCH_URL); answering without grounding",
                self.session_id,
            )
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
        if self.camera is not None:
            await self.camera.aclose()
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
            # Blocking calls the client still owes a response for survive a reconnect.
            "pending_calls": [
                {"id": c.record.id, "name": c.record.name, "args": c.record.args}
                for c in self.pending.blocking()
            ],
        }

    def _restore(self, snapshot: dict[str, Any]) -> None:
        """Continue a stored conversation. The new setup may change anything but the model; what
        it leaves out (system instruction, tools) comes from the stored one."""
        stored = Setup.model_validate(snapshot.get("setup") or {})
        if self.setup.system_instruction is None:
            self.conversation.system_instruction = snapshot.get("system_instruction", "")
        if not self.setup.tools:
            self.setup.tools = stored.tools
        if self.setup.tool_config is None:
            self.setup.tool_config = stored.tool_config
        self.conversation.entries = [dict(entry) for entry in snapshot.get("entries", [])]
        for call in snapshot.get("pending_calls", []):
            record = CallRecord(call["id"], call["name"], call.get("args") or {})
            self.pending.add(PendingCall(record, blocking=True, generation=-1, resumed=True))

    def _update_handle(self) -> None:
        """Re-store the last handle's snapshot in place (same handle, newer state)."""
        if self.resumption is None or self._last_handle is None:
            return
        handle, snapshot = self._last_handle[0], self.snapshot()
        self._last_handle = (handle, snapshot)
        task = asyncio.create_task(self.resumption.refresh(handle, snapshot))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
                await self._on_tool_response(message)
            case ContextUpdate():
                self._on_context_update(message)

    async def _on_client_content(self, message: ClientContent) -> None:
        # New content while the model speaks interrupts it (PROTOCOL.md §4.2).
        if message.turns or message.turn_complete:
            await self._interrupt()
        for content in message.turns:
            self.conversation.append_content(content)
            if content.role in (None, "user") and content.text():
                self._search_query = content.text()
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
            if self.camera is not None:
                await self.camera.add_frame(blob.data)  # a bad image ends the session: 1007
        elif kind == "audio" or not blob.mime_type:
            await self._require_listener().feed(blob.data, blob.mime_type or "audio/pcm")
        else:
            raise ProtocolError(f"Unsupported media MIME type {blob.mime_type[:40]!r}.")

    async def _on_tool_response(self, message: ToolResponse) -> None:
        for response in message.function_responses:
            call = self.pending.find(response.id, response.name)
            if call is None:
                if self.pending.was_cancelled(response.id):  # it crossed our cancellation
                    log.info("session %s: late response %s dropped", self.session_id, response.id)
                    continue
                wanted = f"id {response.id!r}" if response.id else f"name {response.name!r}"
                raise ProtocolError(
                    f"Invalid toolResponse: no pending function call with {wanted}."
                )
            if call.resumed:  # owed from before a reconnect: no reply waits, so start one
                self.pending.remove(call)
                self.conversation.append_message(
                    self.services.tool_calling.result_message(call.record, response.response)
                )
                if not self.pending.blocking() and self.state is TurnState.IDLE:
                    self._start_reply()
            elif call.blocking:
                self.pending.remove(call)
                call.response = response.response
                call.answered.set()  # the reply waiting in _call_functions goes on
            else:
                if not response.will_continue:
                    self.pending.remove(call)
                await self._on_background_result(call, response)

    async def _on_background_result(self, call: PendingCall, response: FunctionResponse) -> None:
        """A NON_BLOCKING call's result: its ``scheduling`` says when the model speaks about it
        (PROTOCOL.md §6.5). Results never land in the middle of a reply in history."""
        message = self.services.tool_calling.late_result_message(call.record, response.response)
        scheduling = response.scheduling or "WHEN_IDLE"
        if scheduling == "INTERRUPT":
            await self._interrupt()
        if self._reply is not None:  # generating or still playing: after it
            self._held_messages.append(message)
            self._respond_when_idle |= scheduling != "SILENT"
            return
        self.conversation.append_message(message)
        if scheduling != "SILENT":
            self._start_reply(event=TurnEvent.TOOL_RESULT_READY)

    def _on_context_update(self, message: ContextUpdate) -> None:
        if message.system_instruction is not None:
            self.conversation.system_instruction = _instruction_text(message.system_instruction)
        if message.tools is not None:
            self.setup.tools = message.tools.tools
            self.tools = ToolBox(self.setup.tools, self.setup.tool_config)

    async def _on_user_text(self, text: str, trace: TurnTrace | None = None) -> None:
        if self.state is not TurnState.IDLE and not self.config.interrupts:
            # NO_INTERRUPTION: the reply finishes first, so in history this turn comes after it.
            self._held_messages.append({"role": "user", "content": text})
            self._respond_when_idle = True
            self._search_query = text
            return
        await self._interrupt()
        self.conversation.append("user", text)
        self._search_query = text
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

    def _start_reply(
        self, trace: TurnTrace | None = None, event: TurnEvent = TurnEvent.USER_TURN_COMPLETE
    ) -> None:
        if self._context_is_full():
            return
        self._transition(event)
        reply = _Reply(generation=self.outbox.current_generation, trace=trace or TurnTrace())
        reply.trigger, reply.search_query, self._search_query = event, self._search_query, ""
        self._reply = reply
        self._task = asyncio.create_task(self._run_reply(reply), name=f"reply-{reply.generation}")

    async def _run_reply(self, reply: _Reply) -> None:
        try:
            await self._look()
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

    async def _look(self) -> None:
        """Tell the LLM what the camera saw during the turn being answered: a ``[camera] ...``
        note just before the user's message (session/camera.py has the rules)."""
        camera, entries = self.camera, self.conversation.entries
        if camera is None or not camera.has_new_frames or not entries:
            return
        if entries[-1].get("role") != "user":
            return
        started = time.monotonic()
        note = await camera.note_for_turn()
        if note:
            attach_note(self.conversation.entries, note)
            log.info(
                "session %s: camera note in %.0f ms: %s",
                self.session_id,
                (time.monotonic() - started) * 1000,
                note[:200],
            )

    async def _fragments(self, reply: _Reply) -> AsyncIterator[str]:
        """The reply's text as it streams. With functions declared it runs in steps: a step that
        ends in calls sends ``toolCall``; blocking calls pause the reply until their responses
        are in, then the next step answers with them (same turn, no ``turnComplete`` between)."""
        reply.trace.reply_start = time.monotonic()
        if reply.search_query and self.tools.google_search:
            await self._ground(reply)
        answer_only = False
        while True:
            functions, choice = self.tools.offered(
                first_step=reply.trigger is TurnEvent.USER_TURN_COMPLETE and not reply.call_steps
            )
            if answer_only or reply.call_steps >= MAX_TOOL_STEPS:
                choice = ToolChoice.NONE
            calls: tuple[ModelCall, ...] = ()
            step = self.services.tool_calling.step(
                self.services.llm, self._chat_request(reply), functions, choice
            )
            async with contextlib.aclosing(step):
                async for event in step:
                    if event.usage is not None:
                        reply.add_usage(event.usage)
                    if event.text:
                        if reply.trace.first_token is None:
                            reply.trace.first_token = time.monotonic()
                        reply.produced.append(event.text)
                        yield event.text
                    calls = event.calls or calls
            # Each distinct call once; a call the reply already has the result of, never again.
            fresh = list({c.key(): c for c in calls if c.key() not in reply.answered}.values())
            if not fresh:
                if not calls:
                    return
                # The model asks again for what it was just given: make it answer instead.
                answer_only = True
                continue
            waited = reply.call_steps
            async for filler in self._call_functions(reply, fresh):
                yield filler
            if reply.call_steps == waited:  # only non-blocking calls: the turn ends here
                return

    async def _call_functions(self, reply: _Reply, calls: list[ModelCall]) -> AsyncIterator[str]:
        """Send one ``toolCall`` for ``calls``, put them in history, and wait for the blocking
        ones' responses; yields the filler if that takes long in an audio session."""
        tool_calling = self.services.tool_calling
        records = [CallRecord(new_call_id(), call.name, call.args) for call in calls]
        said = "".join(reply.produced[reply.committed :])
        reply.committed = len(reply.produced)
        reply.heard_skip += said
        for message in tool_calling.call_messages(said, records):
            self.conversation.append_message(message)
        waiting: list[PendingCall] = []
        for record in records:
            call = PendingCall(record, self.tools.is_blocking(record.name), reply.generation)
            self.pending.add(call)
            if call.blocking:
                waiting.append(call)
            elif (placeholder := tool_calling.placeholder_message(record)) is not None:
                self.conversation.append_message(placeholder)
        function_calls = [FunctionCallOut(id=r.id, name=r.name, args=r.args) for r in records]
        self.outbox.put(
            ServerMessage(tool_call=ToolCall(function_calls=function_calls)), reply.generation
        )
        if not waiting:
            return
        self._update_handle()  # a resume from the last handle can still answer these calls
        reply.call_steps += 1
        self._transition(TurnEvent.TOOL_CALLED)
        answered = asyncio.ensure_future(asyncio.gather(*(c.answered.wait() for c in waiting)))
        try:
            filler = self.services.tool_filler_text
            if self.config.modality == "AUDIO" and filler:
                done, _ = await asyncio.wait({answered}, timeout=self.services.tool_filler_delay_s)
                if not done:  # no dead air while the client works
                    reply.heard_skip += f" {filler}"
                    yield filler + "\n"
            await answered
        finally:
            answered.cancel()
        self._transition(TurnEvent.TOOL_RESPONDED)
        for call in waiting:
            assert call.response is not None
            self.conversation.append_message(
                tool_calling.result_message(call.record, call.response)
            )
        reply.answered.update(call.key() for call in calls)

    async def _ground(self, reply: _Reply) -> None:
        """googleSearch: search the user's words; the results feed this turn's requests, and
        the client gets them as ``groundingMetadata`` before the answer."""
        search, query = self.services.search, reply.search_query.strip()
        if search is None or not query:
            return
        try:
            results = await search.search(query, max_results=self.services.search_results)
        except SearchError as error:
            log.warning("session %s: web search failed (%s); no grounding", self.session_id, error)
            return
        if not results:
            return
        messages = self.conversation.messages()
        reply.search_context = (len(messages) - 1, search_context(query, results))
        self._send(
            ServerContent(grounding_metadata=grounding_metadata(query, results)), reply.generation
        )

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
            "assistant",
            "".join(reply.produced[reply.committed :]) if completed else reply.heard_after_calls(),
        )
        for message in self._held_messages:
            self.conversation.append_message(message)
        self._held_messages.clear()
        self.outbox.put(
            ServerMessage(
                server_content=ServerContent(turn_complete=True), usage_metadata=self._usage(reply)
            ),
            reply.generation if completed else None,
        )
        self._reply = None
        self._task = None
        self._transition(event)
        self._fit_context(reply.last_usage)
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
        self._cancel_calls(reply)
        self._send(ServerContent(interrupted=True), None)
        self._finish_reply(reply, TurnEvent.INTERRUPTED)

    def _cancel_calls(self, reply: _Reply) -> None:
        """Barge-in over pending calls: ``toolCallCancellation`` with their ids, and history
        records that no result came (every call in history gets an answer)."""
        cancelled = self.pending.cancel_generation(reply.generation)
        if not cancelled:
            return
        ids = [call.record.id for call in cancelled]
        self.outbox.put(ServerMessage(tool_call_cancellation=ToolCallCancellation(ids=ids)))
        for call in cancelled:
            if call.blocking:
                message = self.services.tool_calling.result_message(call.record, CANCELLED_RESULT)
                self.conversation.append_message(message)

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

    def _chat_request(self, reply: _Reply | None = None) -> ChatRequest:
        config = self.setup.generation_config
        messages = self.conversation.messages()
        if reply is not None and reply.search_context is not None:
            index, context = reply.search_context
            turn = messages[index]
            messages[index] = {**turn, "content": f"{turn.get('content') or ''}\n\n{context}"}
        return ChatRequest(
            messages=messages,
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
        else:
            # Interrupted before the engine reported usage: the prompt was still processed
            # (estimated from the last real count), and each streamed fragment is one token.
            prompt = self.tokens.estimate(self.conversation)
            response, cached = len(reply.produced), None
        details = [ModalityTokenCount(modality=self.config.modality, token_count=response)]
        # Camera frames reach the LLM as text notes; their tokens are the IMAGE share.
        image = min(prompt, camera_tokens(self.conversation.entries, self.tokens.entry_tokens))
        prompt_details = [ModalityTokenCount(modality="TEXT", token_count=prompt - image)]
        if image:
            prompt_details.append(ModalityTokenCount(modality="IMAGE", token_count=image))
        usage = UsageMetadata(
            prompt_token_count=prompt,
            cached_content_token_count=cached,
            total_token_count=prompt + response,
            prompt_tokens_details=prompt_details,
        )
        if self.route.uses_vertex_usage_names:
            usage.candidates_token_count = response
            usage.candidates_tokens_details = details
        else:
            usage.response_token_count = response
            usage.response_tokens_details = details
        return usage
