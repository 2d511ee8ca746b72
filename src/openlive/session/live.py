"""LiveSession: the state of one conversation and the rules that drive it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from ..engines.llm import ChatRequest, LLMEngine, LLMError, Usage
from ..protocol.client_messages import (
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
    ModalityTokenCount,
    ModelTurn,
    ServerContent,
    ServerMessage,
    ServerPart,
    SetupComplete,
    UsageMetadata,
)
from .history import Conversation
from .outbox import Outbox, Outgoing
from .state import TurnEvent, TurnState, next_state

log = logging.getLogger("openlive.session")

MODALITIES = {"TEXT", "AUDIO"}


@dataclass(frozen=True)
class SessionServices:
    """The shared engines a session uses. One copy per process, shared by every session."""

    llm: LLMEngine
    default_max_tokens: int = 1024


@dataclass
class _Reply:
    """One model reply in progress: what was produced, and what of it was sent."""

    generation: int
    chunks: list[tuple[Outgoing, str]]
    usage: Usage | None = None

    def sent_text(self) -> str:
        return "".join(text for item, text in self.chunks if item.sent)


def _instruction_text(content: Content | None) -> str:
    return content.text() if content is not None else ""


class LiveSession:
    def __init__(self, setup: Setup, route: Route, services: SessionServices) -> None:
        self.setup = setup
        self.route = route
        self.services = services
        self.session_id = uuid.uuid4().hex
        self.outbox = Outbox()
        self.state = TurnState.IDLE
        self.conversation = Conversation(_instruction_text(setup.system_instruction))
        self.response_modality = self._validate_modality(setup)
        self._reply: _Reply | None = None
        self._task: asyncio.Task[None] | None = None
        self._respond_when_idle = False

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the handshake reply. ``setupComplete`` is always the first message."""
        self.outbox.put(ServerMessage(setup_complete=SetupComplete(session_id=self.session_id)))

    async def aclose(self) -> None:
        """The connection is gone: stop whatever runs, quietly."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            self.outbox.current_generation += 1
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
        if message.text:
            if self._no_interruption() and self.state is TurnState.GENERATING:
                self.conversation.append("user", message.text)
                self._respond_when_idle = True
                return
            await self._interrupt()
            self.conversation.append("user", message.text)
            self._start_reply()

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

    # -- replies ------------------------------------------------------------------------------

    def _start_reply(self) -> None:
        self._transition(TurnEvent.USER_TURN_COMPLETE)
        generation = self.outbox.current_generation
        self._reply = _Reply(generation=generation, chunks=[])
        self._task = asyncio.create_task(self._generate(self._reply), name=f"reply-{generation}")

    async def _generate(self, reply: _Reply) -> None:
        request = self._chat_request()
        try:
            stream = self.services.llm.stream(request)
            async with contextlib.aclosing(stream):
                async for delta in stream:
                    if delta.text:
                        part = ServerPart(text=delta.text)
                        item = self._send_content(
                            ServerContent(model_turn=ModelTurn(parts=[part])), reply.generation
                        )
                        reply.chunks.append((item, delta.text))
                    if delta.usage is not None:
                        reply.usage = delta.usage
        except LLMError as error:
            log.error("session %s: LLM failed: %s", self.session_id, error)
            self._finish_reply(reply, TurnEvent.FAILED)
            self.outbox.close(CloseCode.INTERNAL_ERROR, INTERNAL_ERROR_REASON)
            return
        self._send_content(ServerContent(generation_complete=True), reply.generation)
        self._finish_reply(reply, TurnEvent.GENERATION_DONE)

    def _finish_reply(self, reply: _Reply, event: TurnEvent) -> None:
        """End the turn: history gets what the client received, the client gets turnComplete."""
        produced = "".join(text for _, text in reply.chunks)
        kept = produced if event is TurnEvent.GENERATION_DONE else reply.sent_text()
        self.conversation.append("assistant", kept)
        usage = self._usage(reply)
        generation = reply.generation if event is TurnEvent.GENERATION_DONE else None
        self.outbox.put(
            ServerMessage(server_content=ServerContent(turn_complete=True), usage_metadata=usage),
            generation,
        )
        self._reply = None
        self._task = None
        self._transition(event)
        if self._respond_when_idle and event is TurnEvent.GENERATION_DONE:
            self._respond_when_idle = False
            self._start_reply()

    async def _interrupt(self) -> None:
        """Cut the current reply: nothing more of it is sent, history keeps what was sent."""
        reply, task = self._reply, self._task
        if reply is None or task is None or task.done():
            return
        self.outbox.current_generation += 1  # from here on, queued chunks of the reply are stale
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._send_content(ServerContent(interrupted=True), None)
        self._finish_reply(reply, TurnEvent.INTERRUPTED)

    # -- helpers ------------------------------------------------------------------------------

    def _send_content(self, content: ServerContent, generation: int | None) -> Outgoing:
        return self.outbox.put(ServerMessage(server_content=content), generation)

    def _transition(self, event: TurnEvent) -> None:
        self.state = next_state(self.state, event)

    def _no_interruption(self) -> bool:
        config = self.setup.realtime_input_config
        return config is not None and config.activity_handling == "NO_INTERRUPTION"

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
            prompt, response, cached = 0, len(reply.chunks), None
        modality = self.response_modality
        details = [ModalityTokenCount(modality=modality, token_count=response)]
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

    @staticmethod
    def _validate_modality(setup: Setup) -> str:
        modalities = setup.generation_config.response_modalities or ["TEXT"]
        if len(modalities) != 1 or modalities[0] not in MODALITIES:
            raise ProtocolError(
                "Invalid setup: generation_config.response_modalities must be exactly one of "
                f"TEXT or AUDIO, got {modalities}."
            )
        return modalities[0]
