"""LiveSession: one conversation's turn runner.

Input arrives through ``handle``. The turn rules (session/state.py) say what it does; this file
only carries the verdict out, state first, side effects after. A reply runs as one task: its
pipeline (session/reply.py) streams typed pieces into its output (session/output.py), and every
message it queues is tagged with its generation. Ending a reply early starts a new generation, so
whatever it queued that the writer has not sent yet is dropped, and history keeps only what the
user got. A watchdog (session/watchdog.py) ends a reply whose engine stops making progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from ..engines.llm import ContextOverflowError, LLMError
from ..protocol.client_messages import (
    ClientContent,
    ClientMessage,
    ContextUpdate,
    RealtimeInput,
    Setup,
    ToolResponse,
)
from ..protocol.errors import INTERNAL_ERROR_REASON, CloseCode, ProtocolError
from ..protocol.routing import Route
from ..protocol.server_messages import (
    ServerContent,
    ServerMessage,
    SetupComplete,
    ToolCallCancellation,
    Transcription,
)
from .config import SessionConfig, resolve_config
from .context_window import ContextBudget
from .echo import LastSpoken
from .handles import Handles
from .history import Conversation, instruction_text
from .inputs import Arrived, ContentReader, Seeding, search_words, tool_response_inputs
from .listener import Listener
from .media import Media, camera_for
from .outbox import Outbox
from .reply import Reply, ReplyContext, ReplyPipeline, build_request
from .running import RunningReply
from .services import SessionServices
from .snapshot import restore_snapshot, take_snapshot
from .speculation import FirstClauseVoice, RequestRecorder, SpeculativeLLM
from .speech_out import first_clause_words
from .state import (
    HELD_REPLIES_START_AFTER,
    REPLY_EVENT,
    Input,
    Playback,
    Record,
    Turn,
    TurnEvent,
)
from .tools import PendingCalls, ToolBox, cancelled_results
from .trace import TurnRecord, TurnTrace
from .usage import usage_metadata

log = logging.getLogger("openlive.session")

STALLED_REASON = "Deadline expired before operation could complete."  # Google's 1011 wording
CONTEXT_OVERFLOW_REASON = "The input is longer than the model's context window."


class LiveSession:
    def __init__(
        self,
        setup: Setup,
        route: Route,
        services: SessionServices,
        *,
        restored: dict[str, Any] | None = None,
        owner: dict[str, str | None] | None = None,
        max_outbox_messages: int = 0,
        max_held_messages: int = 0,
    ) -> None:
        self.setup = setup
        self.owner = owner  # who may resume this session (auth/owner.py), kept in snapshots
        self.route = route
        self.services = services
        self.clock = services.clock
        self.session_id = restored["session_id"] if restored else uuid.uuid4().hex
        self.config: SessionConfig = resolve_config(
            setup, speech_available=services.speech is not None
        )
        self.outbox = Outbox(max_outbox_messages)
        self.turn = Turn()
        self.conversation = Conversation(instruction_text(setup.system_instruction))
        self.pending = PendingCalls(services.max_pending_calls)
        if restored is not None:
            restore_snapshot(restored, self.setup, self.conversation, self.pending)
        self.budget = ContextBudget(
            self.conversation, setup.context_window_compression, services.context_tokens
        )
        resumption = services.resumption if setup.session_resumption is not None else None
        self.handles = Handles(resumption, self.snapshot, self.outbox.put, self.session_id)
        self.tools = ToolBox(setup.tools, setup.tool_config)
        if self.tools.google_search and services.search is None:
            log.warning(
                "session %s: googleSearch requested but no web search is configured "
                "(set OPENLIVE_SEARCH_URL); answering without grounding",
                self.session_id,
            )
        self.camera = camera_for(
            services.vision, setup.generation_config.media_resolution, self.config, self.clock
        )
        # Voice turns start their reply at the user's first pause (session/speculation.py).
        self.speculation: SpeculativeLLM | None = None
        if services.speech is not None and self.config.modality == "AUDIO":
            self.speculation = SpeculativeLLM(services.llm_for(self.config.modality))
        self.listener: Listener | None = None
        if services.speech is not None:
            self.listener = Listener(
                services.speech,
                self.config,
                on_speech_started=self._on_speech_started,
                on_speech_suspected=self._on_speech_suspected,
                on_speech_cleared=self._on_speech_cleared,
                on_guess=self._on_guess,
                on_guess_void=self._on_guess_void,
                on_transcript=self._on_input_transcript,
                on_user_turn=self._on_user_text,
                model_is_audible=self._model_is_audible,
                recent_speech=self._recent_speech,
                conversation=self.conversation.messages,
                reply_idle=lambda: self._running is None and not self.turn.busy,
                echo_guard_s=services.echo_guard_s,
                barge_in_onset_s=services.barge_in_onset_s,
                clock=self.clock,
            )
        self.media = Media(self.listener, self.camera, self.session_id)
        seeding = Seeding(setup, resumed=restored is not None)
        self.content = ContentReader(self.media, services.tool_calling, seeding)
        self._running: RunningReply | None = None
        self._unwinding: asyncio.Task[None] | None = None  # the last reply cut off, cancelling
        # Input that arrives while a reply runs and must not interrupt it (session/state.py):
        # history gets it after the reply, in arrival order, then maybe a reply of its own.
        self._held: list[dict[str, Any]] = []
        self._max_held = max_held_messages  # 0: no bound (docs/limits.md)
        self._reply_when_idle: TurnEvent | None = None
        self._search_query = ""  # the user's latest words, searched when the reply starts
        self._last_spoken = LastSpoken()  # the previous reply, for the echo guard
        self._paused: RunningReply | None = None  # its audio stopped by a possible barge-in
        self._turns_ended = 0  # numbers the turns in traces

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the handshake reply. ``setupComplete`` is always the first message."""
        self.outbox.put(ServerMessage(setup_complete=SetupComplete(session_id=self.session_id)))
        self.handles.publish()

    async def aclose(self) -> None:
        """The connection is gone: stop whatever runs, quietly, and keep the last handle alive."""
        await self.media.aclose()
        if self.speculation is not None:
            self.speculation.discard("the session ended")
        running, self._running = self._running, None
        if running is not None:
            self.outbox.new_generation()
            running.stop(cancel=True)
        for task in (running.task if running else None, self._unwinding):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.handles.aclose()

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to continue this conversation elsewhere (session/snapshot.py)."""
        snapshot = take_snapshot(self.session_id, self.setup, self.conversation, self.pending)
        return {**snapshot, "owner": self.owner}

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
        if self._max_held and len(self._held) > self._max_held:
            # A client that keeps sending while a reply runs would grow this without end.
            raise ProtocolError(
                f"More than {self._max_held} messages held while a reply runs.",
                CloseCode.POLICY_VIOLATION,
            )

    async def _on_client_content(self, message: ClientContent) -> None:
        if (arrived := await self.content.read(message)) is None:
            return
        if arrived.kind is not Input.SEEDED_HISTORY and (words := search_words(message)):
            self._search_query = words
        self._apply(arrived)

    async def _on_realtime_input(self, message: RealtimeInput) -> None:
        await self.media.take(message)
        if message.text:
            await self.media.settle()  # a spoken turn that ended first is answered first
            await self._on_user_text(message.text)

    def _on_tool_response(self, message: ToolResponse) -> None:
        tool_calling = self.services.tool_calling
        for arrived in tool_response_inputs(message, self.pending, tool_calling):
            self._apply(arrived)

    def _on_context_update(self, message: ContextUpdate) -> None:
        if message.system_instruction is not None:
            self.conversation.system_instruction = instruction_text(message.system_instruction)
        if message.tools is not None:
            self.setup.tools = message.tools.tools
            self.tools = ToolBox(self.setup.tools, self.setup.tool_config)

    async def _on_user_text(self, text: str, trace: TurnTrace | None = None) -> None:
        self._search_query = text
        self._apply(Arrived(Input.USER_TURN, [{"role": "user", "content": text}]), trace)

    def _apply(self, arrived: Arrived, trace: TurnTrace | None = None) -> None:
        """Carry out what the input rules say about what arrived: the one place input acts."""
        action = self.turn.decide(arrived.kind, self.config.handling)
        if action.playback is not Playback.KEEP and self._running is not None:
            self._pause_or_resume(self._running, action.playback)
        if action.interrupt and self._running is not None:
            self._end_turn(TurnEvent.INTERRUPTED)
        if action.record is Record.AFTER_REPLY:
            self._held.extend(arrived.entries)
            if action.reply and self._reply_when_idle is not TurnEvent.USER_TURN_COMPLETE:
                self._reply_when_idle = REPLY_EVENT[arrived.kind]  # a user outranks a result
            return
        for entry in arrived.entries:
            self.conversation.append_message(entry)
        if action.reply:
            self._start_reply(REPLY_EVENT[arrived.kind], trace)

    def _pause_or_resume(self, running: RunningReply, playback: Playback) -> None:
        """A possible barge-in pauses the reply's audio: ``interrupted`` at once, so the client
        stops playing, while the reply goes on being made. A false alarm resumes it."""
        now, output = self.clock.now(), running.output
        if playback is Playback.PAUSE and output.is_audible(now):
            output.pause(now)
            self.outbox.put(ServerMessage(server_content=ServerContent(interrupted=True)))
            self._paused = running
        elif playback is Playback.RESUME and self._paused is running:
            self._paused = None
            output.resume(now)
            log.info("session %s: not an interruption; the reply plays on", self.session_id)

    # -- speculation --------------------------------------------------------------------------

    async def _on_guess(self, text: str) -> None:
        """The user paused, and this is what they said: if nothing else is going on, start the
        reply's first request now, exactly as the reply would make it."""
        speculation, speech = self.speculation, self.services.speech
        if speculation is None or speech is None or self._running is not None or self.turn.busy:
            return
        if self.tools.google_search or (self.camera is not None and self.camera.has_new_frames):
            return  # the reply's request would hold what search or the camera adds
        if not text or self.budget.exhausted() is not None:
            return
        entries = self.conversation.entries
        entries.append({"role": "user", "content": text})
        try:
            request = build_request(
                self.conversation.messages(),
                self.setup.generation_config,
                audio=True,
                default_max_tokens=self.services.default_max_tokens,
            )
        finally:
            entries.pop()
        functions, choice = self.tools.offered(first_step=True)
        recorder = RequestRecorder()
        async for _ in self.services.tool_calling.step(recorder, request, functions, choice):
            pass
        if not recorder.requests or self._running is not None:
            return
        first = recorder.requests[0]
        plain = not first.tools and first.response_format is None  # its text is the answer
        voice = FirstClauseVoice(
            speech.tts,
            self.config.voice,
            self.config.language,
            speech.tts_executor,
            first_clause_words(speech.tts),
        )
        speculation.prestart(first, voice if plain else None)

    def _on_guess_void(self) -> None:
        if self.speculation is not None:
            self.speculation.discard("the user went on")

    # -- listener callbacks -------------------------------------------------------------------

    async def _on_speech_started(self) -> None:
        """Barge-in: the VAD confirmed speech. Interrupt at once; do not wait for ASR."""
        self._apply(Arrived(Input.SPEECH_STARTED))

    async def _on_speech_suspected(self) -> None:
        """The first sound over our reply: pause it (the user may be about to talk)."""
        self._apply(Arrived(Input.SPEECH_SUSPECTED))

    async def _on_speech_cleared(self) -> None:
        """The sound stopped short of speech, or was our echo: the paused reply plays on."""
        self._apply(Arrived(Input.SPEECH_CLEARED))

    def _on_input_transcript(self, text: str, finished: bool) -> None:
        if self.config.input_transcription and (text or finished):
            transcript = Transcription(text=text, finished=finished)
            self.outbox.put(
                ServerMessage(server_content=ServerContent(input_transcription=transcript))
            )

    def _model_is_audible(self) -> bool:
        running = self._running
        return running is not None and running.output.is_audible(self.clock.now())

    def _recent_speech(self) -> str:
        """What we said in the last few seconds: the reply now playing, or the one just played."""
        if self._running is not None and self.config.modality == "AUDIO":
            return self._running.output.spoken_text()
        return self._last_spoken.recent(self.clock.now())

    # -- replies ------------------------------------------------------------------------------

    def _start_reply(self, event: TurnEvent, trace: TurnTrace | None = None) -> None:
        if (exhausted := self.budget.exhausted()) is not None:
            self.outbox.close(CloseCode.POLICY_VIOLATION, exhausted)
            return
        self.turn.handle(event)
        generation = self.outbox.generation
        reply = Reply(generation, event, self._search_query, trace or TurnTrace())
        self._search_query = ""
        running = self._running = RunningReply(
            reply,
            self.outbox,
            self.config,
            self.services,
            self.clock,
            generating=lambda: self.turn.generating,
            on_stall=self._on_stall,
            prefetched=self.speculation.prefetched if self.speculation else None,
        )
        running.start(self._run)

    async def _run(self, running: RunningReply) -> None:
        reply, output = running.reply, running.output
        if (previous := self._unwinding) is not None:  # let a cut-off reply free its engines
            await asyncio.wait({previous})
        pipeline = ReplyPipeline(reply, self._reply_context(running))
        try:
            await output.deliver(running.watchdog.watch(pipeline.pieces()))
        except Exception as error:
            if self._running is not running:  # it failed while being cut off: already ended
                return
            if isinstance(error, ContextOverflowError):  # one turn too long: the client's doing
                log.info("session %s: %s", self.session_id, error)
                self._end_turn(TurnEvent.FAILED)
                self.outbox.close(CloseCode.POLICY_VIOLATION, CONTEXT_OVERFLOW_REASON)
                return
            log.error(
                "session %s: reply failed: %s",
                self.session_id,
                error,
                exc_info=not isinstance(error, LLMError),
            )
            self._end_turn(TurnEvent.FAILED)
            self.outbox.close(CloseCode.INTERNAL_ERROR, INTERNAL_ERROR_REASON)
            return
        self.turn.handle(TurnEvent.GENERATION_DONE)
        running.emit(ServerMessage(server_content=ServerContent(generation_complete=True)))
        # An audio turn is over when the client has played it (docs/protocol.md §6.2, 3 → 4).
        await output.played_out()
        self._end_turn(TurnEvent.PLAYBACK_DONE)

    def _reply_context(self, running: RunningReply) -> ReplyContext:
        def transition(event: TurnEvent) -> None:
            self.turn.handle(event)
            running.watchdog.progress()  # a tool wait is over: count afresh from here

        return ReplyContext(
            services=self.services,
            llm=self.speculation or self.services.llm_for(self.config.modality),
            conversation=self.conversation,
            tools=self.tools,
            pending=self.pending,
            camera=self.camera,
            generation_config=self.setup.generation_config,
            audio=self.config.modality == "AUDIO",
            clock=self.clock,
            session_id=self.session_id,
            emit=running.emit,
            transition=transition,
            calls_waiting=self.handles.update,
        )

    def _on_stall(self) -> None:
        log.error("session %s: the reply made no progress; ending the turn", self.session_id)
        self._end_turn(TurnEvent.TIMED_OUT)
        self.outbox.close(CloseCode.INTERNAL_ERROR, STALLED_REASON)

    def _end_turn(self, event: TurnEvent) -> None:
        """End the reply: history gets what the user received, the client gets turnComplete.
        Runs to its end without waiting, so no other input sees a half-ended turn."""
        running = self._running
        assert running is not None
        self.turn.handle(event)
        self._running = None
        reply, output, now = running.reply, running.output, self.clock.now()
        completed = event is TurnEvent.PLAYBACK_DONE
        if (cut_off := running.stop(cancel=not completed)) is not None:
            self._unwinding = cut_off
        if event is TurnEvent.INTERRUPTED:
            self.outbox.new_generation()  # from here on, queued chunks of the reply are stale
            # Pending calls are cancelled, and history records that no result came.
            cancelled = self.pending.cancel_generation(reply.generation)
            if cancelled:
                ids = [call.record.id for call in cancelled]
                self.outbox.put(ServerMessage(tool_call_cancellation=ToolCallCancellation(ids=ids)))
            for entry in cancelled_results(cancelled, self.services.tool_calling):
                self.conversation.append_message(entry)
            if self._paused is not running:  # a paused reply told the client already
                self.outbox.put(ServerMessage(server_content=ServerContent(interrupted=True)))
        self._paused = None
        reply.trace.first_audio = output.first_audio_at
        reply.trace.ended, reply.trace.playback_end = now, output.playback_end()
        reply.trace.log(self.session_id)
        if self.services.observe_turn is not None:
            self.services.observe_turn(self.config.modality, event.value, reply.trace.stages_ms())
        if self.services.turn_timings is not None:
            # Kept before turnComplete is queued: a client that asks on turnComplete finds it.
            self.services.turn_timings.add(
                self.session_id, reply.trace, modality=self.config.modality, outcome=event.value
            )
        self._turns_ended += 1
        if self.services.trace_turn is not None:
            record = TurnRecord(
                self.session_id, self._turns_ended, self.config.modality, event.value
            )
            self.services.trace_turn(record, reply.trace)
        if self.config.modality == "AUDIO":
            self._last_spoken = LastSpoken(output.spoken_text(), output.playback_end() or now)
        heard = (
            reply.uncommitted_text()
            if completed
            else output.heard_model_text(now, since_step=reply.committed_steps)
        )
        self.conversation.append("assistant", heard)
        for entry in self._held:
            self.conversation.append_message(entry)
        self._held.clear()
        usage = usage_metadata(
            reply.usage,
            produced_fragments=len(reply.produced),
            conversation=self.conversation,
            tokens=self.budget.tokens,
            modality=self.config.modality,
            vertex_names=self.route.uses_vertex_usage_names,
        )
        turn_complete = ServerContent(turn_complete=True)
        message = ServerMessage(server_content=turn_complete, usage_metadata=usage)
        self.outbox.put(message, reply.generation if completed else None)
        self.budget.after_turn(reply.last_usage)
        self.handles.publish()
        when_idle, self._reply_when_idle = self._reply_when_idle, None
        if when_idle is not None and event is HELD_REPLIES_START_AFTER:
            self._start_reply(when_idle)
