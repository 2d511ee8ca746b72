"""One model reply, from the turn that asked for it to the pieces its output delivers.

The path, in order:
1. camera: what the camera saw during the turn, as a ``[camera] ...`` note just before the user's
   message (session/camera.py has the rules);
2. grounding: with ``googleSearch``, the user's words are searched; the results feed this reply's
   requests, and the client gets ``groundingMetadata`` before the answer;
3. LLM steps: each request streams the model's words as :class:`ModelText` pieces. A step that
   ends in function calls sends one ``toolCall``. Blocking calls pause the reply (the turn waits
   in WAITING_FOR_TOOL, no ``turnComplete``) until every response is in; then the next step
   answers with them. Non-blocking calls end the reply; their results come back as inputs.
   In an audio session a slow wait gets a :class:`Filler`, so the user hears no dead air.
4. length: an audio reply the client set no ``maxOutputTokens`` for ends at a sentence end
   past its budget (session/spoken_budget.py), so a spoken turn never runs for minutes.

The pipeline knows nothing of the wire beyond the messages it makes; it reaches the client only
through the reply's ``emit`` and changes the turn only through ``transition``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..engines.llm import ChatRequest, LLMEngine, Usage
from ..engines.llm.tool_calling import CallRecord, ModelCall, ToolChoice
from ..engines.search import SearchError
from ..protocol.client_messages import GenerationConfig
from ..protocol.server_messages import (
    FunctionCallOut,
    ServerContent,
    ServerMessage,
    ToolCall,
    ToolCallCancellation,
)
from .camera import Camera, attach_note
from .clock import Clock, done_within
from .grounding import grounding_metadata, search_context
from .history import Conversation
from .outbox import Emit
from .pieces import Filler, ModelText, Piece
from .services import SessionServices
from .spoken_budget import HARD_MAX_TOKENS, SpokenBudget
from .state import TurnEvent
from .tools import (
    EVICTED_RESULT,
    PendingCall,
    PendingCalls,
    ToolBox,
    cancelled_results,
    new_call_id,
)
from .trace import ToolCallSpan, TurnTrace

log = logging.getLogger("openlive.session")

MAX_TOOL_STEPS = 4  # rounds of blocking calls in one reply; then the model must answer


@dataclass
class Reply:
    """One model reply in progress: what asked for it, and what it produced."""

    generation: int
    trigger: TurnEvent = TurnEvent.USER_TURN_COMPLETE
    search_query: str = ""
    trace: TurnTrace = field(default_factory=TurnTrace)
    produced: list[ModelText] = field(default_factory=list)
    usage: Usage | None = None  # the whole reply's, every request together
    last_usage: Usage | None = None  # the latest request's: it measures the whole context
    step: int = 0  # the request being made: one more after each blocking wait
    committed_steps: int = 0  # requests whose words are in history already, with their calls
    answered: set[str] = field(default_factory=set)  # ModelCall.key() of calls with results
    search_context: tuple[int, str] | None = None  # (message index, text), this reply only

    def add_usage(self, usage: Usage) -> None:
        self.usage = usage if self.usage is None else self.usage + usage
        self.last_usage = usage

    def uncommitted_text(self) -> str:
        """The words of the reply that history does not have yet."""
        return "".join(p.text for p in self.produced if p.step >= self.committed_steps)


@dataclass
class ReplyContext:
    """What a reply works with: the session's parts, never the session itself."""

    services: SessionServices
    llm: LLMEngine  # the session's: the voice LLM for audio sessions (services.llm_for)
    conversation: Conversation
    tools: ToolBox
    pending: PendingCalls
    camera: Camera | None
    generation_config: GenerationConfig
    audio: bool  # an audio session: a slow tool wait gets a filler
    clock: Clock
    session_id: str
    emit: Emit  # tagged with the reply's generation
    transition: Callable[[TurnEvent], None]
    calls_waiting: Callable[[], None]  # a blocking call is out: resumption must know of it


class ReplyPipeline:
    def __init__(self, reply: Reply, context: ReplyContext) -> None:
        self.reply = reply
        self.context = context

    async def pieces(self) -> AsyncGenerator[Piece, None]:
        """The reply as it streams. Raises what an engine raises."""
        reply, context = self.reply, self.context
        await self._look()
        reply.trace.reply_start = context.clock.now()
        if reply.search_query and context.tools.google_search:
            await self._ground()
        answer_only = False
        budget = SpokenBudget() if spoken_budget_applies(context) else None
        while True:
            functions, choice = context.tools.offered(
                first_step=reply.trigger is TurnEvent.USER_TURN_COMPLETE and not reply.step
            )
            if answer_only or reply.step >= MAX_TOOL_STEPS:
                choice = ToolChoice.NONE
            calls: tuple[ModelCall, ...] = ()
            request = chat_request(context, reply)
            step = context.services.tool_calling.step(context.llm, request, functions, choice)
            async with contextlib.aclosing(step):
                async for event in step:
                    if event.usage is not None:
                        reply.add_usage(event.usage)
                    text = budget.take(event.text) if budget and event.text else event.text
                    if text:
                        if reply.trace.first_token is None:
                            reply.trace.first_token = context.clock.now()
                        piece = ModelText(text, reply.step)
                        reply.produced.append(piece)
                        yield piece
                    if budget is not None and budget.done:
                        return  # closing the step stops the engine
                    calls = event.calls or calls
            if budget is not None and (held := budget.flush()):
                piece = ModelText(held, reply.step)
                reply.produced.append(piece)
                yield piece
            # Each distinct call once; a call the reply already has the result of, never again.
            fresh = list({c.key(): c for c in calls if c.key() not in reply.answered}.values())
            if not fresh:
                if not calls:
                    return
                # The model asks again for what it was just given: make it answer instead.
                answer_only = True
                continue
            waited = reply.step
            async for filler in self._call_functions(fresh):
                yield filler
            if reply.step == waited:  # only non-blocking calls: the turn ends here
                return

    async def _call_functions(self, calls: list[ModelCall]) -> AsyncIterator[Filler]:
        """Send one ``toolCall`` for ``calls``, put them in history, and wait for the blocking
        ones' responses; yields the filler if that takes long in an audio session."""
        reply, context = self.reply, self.context
        tool_calling = context.services.tool_calling
        calls = self._within_bound(calls)
        records = [CallRecord(new_call_id(), call.name, call.args) for call in calls]
        for message in tool_calling.call_messages(reply.uncommitted_text(), records):
            context.conversation.append_message(message)
        reply.committed_steps = reply.step + 1
        waiting: list[PendingCall] = []
        for record in records:
            call = PendingCall(record, context.tools.is_blocking(record.name), reply.generation)
            context.pending.add(call)
            if call.blocking:
                waiting.append(call)
            elif (placeholder := tool_calling.placeholder_message(record)) is not None:
                context.conversation.append_message(placeholder)
        function_calls = [FunctionCallOut(id=r.id, name=r.name, args=r.args) for r in records]
        context.emit(ServerMessage(tool_call=ToolCall(function_calls=function_calls)))
        span = ToolCallSpan(tuple(r.name for r in records), context.clock.now())
        reply.trace.tool_calls.append(span)
        if not waiting:
            return
        context.calls_waiting()
        context.transition(TurnEvent.TOOL_CALLED)
        services, clock = context.services, context.clock
        deadline = clock.now() + services.tool_response_timeout_s
        answered = asyncio.ensure_future(asyncio.gather(*(c.answered.wait() for c in waiting)))
        # Cut off mid-wait (the session closes), its waits end cancelled: retrieve that.
        answered.add_done_callback(_retrieve)
        timed_out = False
        try:
            filler = services.tool_filler_text
            delay = services.tool_filler_delay_s
            if context.audio and filler and not await done_within(clock, answered, delay):
                yield Filler(filler + "\n")  # no dead air while the client works
            if services.tool_response_timeout_s <= 0:
                await answered
            elif not await done_within(clock, answered, deadline - clock.now()):
                timed_out = True
                self._time_out(waiting)  # every call now has a result
                await answered
        finally:
            answered.cancel()
        span.answered = clock.now()
        context.transition(TurnEvent.TOOL_TIMED_OUT if timed_out else TurnEvent.TOOL_RESPONDED)
        reply.step += 1
        for call in waiting:
            assert call.response is not None
            context.conversation.append_message(
                tool_calling.result_message(call.record, call.response)
            )
        reply.answered.update(call.key() for call in calls)

    def _within_bound(self, calls: list[ModelCall]) -> list[ModelCall]:
        """Make room for ``calls`` under ``max_pending_calls`` (session/tools.py has the rule):
        the oldest unanswered calls are cancelled before this ``toolCall`` goes out."""
        context = self.context
        pending, tool_calling = context.pending, context.services.tool_calling
        if pending.max_calls and len(calls) > pending.max_calls:
            log.warning(
                "session %s: the model asked for %d calls at once; the first %d are made",
                context.session_id,
                len(calls),
                pending.max_calls,
            )
            calls = calls[: pending.max_calls]
        evicted = pending.make_room(len(calls))
        if evicted:
            ids = [call.record.id for call in evicted]
            log.info(
                "session %s: %d calls unanswered; the oldest cancelled: %s",
                context.session_id,
                len(pending) + len(evicted),
                ids,
            )
            context.emit(ServerMessage(tool_call_cancellation=ToolCallCancellation(ids=ids)))
            for entry in cancelled_results(evicted, tool_calling, EVICTED_RESULT):
                context.conversation.append_message(entry)
        return calls

    def _time_out(self, waiting: list[PendingCall]) -> None:
        """The client left calls unanswered: cancel them; their error results go to history."""
        timed_out = self.context.pending.time_out(waiting)
        ids = [call.record.id for call in timed_out]
        log.warning("session %s: no response to %s in time", self.context.session_id, ids)
        self.context.emit(ServerMessage(tool_call_cancellation=ToolCallCancellation(ids=ids)))

    async def _look(self) -> None:
        """Put what the camera saw during this turn just before the user's message."""
        context = self.context
        camera, entries = context.camera, context.conversation.entries
        if camera is None or not camera.has_new_frames or not entries:
            return
        if entries[-1].get("role") != "user":
            return
        started = context.clock.now()
        note = await camera.note_for_turn()
        if note:
            attach_note(entries, note)
            log.info(
                "session %s: camera note in %.0f ms: %s",
                context.session_id,
                (context.clock.now() - started) * 1000,
                note[:200],
            )

    async def _ground(self) -> None:
        """googleSearch: search the user's words; the results feed this reply's requests."""
        reply, context = self.reply, self.context
        search, query = context.services.search, reply.search_query.strip()
        if search is None or not query:
            return
        try:
            results = await search.search(query, max_results=context.services.search_results)
        except SearchError as error:
            log.warning(
                "session %s: web search failed (%s); no grounding", context.session_id, error
            )
            return
        if not results:
            return
        messages = context.conversation.messages()
        reply.search_context = (len(messages) - 1, search_context(query, results))
        metadata = grounding_metadata(query, results)
        context.emit(ServerMessage(server_content=ServerContent(grounding_metadata=metadata)))


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def spoken_budget_applies(context: ReplyContext) -> bool:
    """An audio reply with no client limit: the spoken budget decides where it ends."""
    return context.audio and not context.generation_config.max_output_tokens


def chat_request(context: ReplyContext, reply: Reply) -> ChatRequest:
    """The next request of the reply: the conversation, the turn's search results, the
    client's generation settings."""
    messages = context.conversation.messages()
    if reply.search_context is not None:
        index, text = reply.search_context
        turn = messages[index]
        messages[index] = {**turn, "content": f"{turn.get('content') or ''}\n\n{text}"}
    return build_request(
        messages,
        context.generation_config,
        audio=context.audio,
        default_max_tokens=context.services.default_max_tokens,
    )


def build_request(
    messages: list[dict[str, Any]],
    config: GenerationConfig,
    *,
    audio: bool,
    default_max_tokens: int,
) -> ChatRequest:
    """A request of ``messages`` with the client's generation settings (speculation builds its
    guess with this too, so a right guess is the very request the reply makes)."""
    return ChatRequest(
        messages=messages,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        max_tokens=config.max_output_tokens or (HARD_MAX_TOKENS if audio else default_max_tokens),
        seed=config.seed,
        stop=list(config.stop_sequences),
        presence_penalty=config.presence_penalty,
        frequency_penalty=config.frequency_penalty,
    )
