"""Client messages as the turn rules name them (session/state.py ``Input``), each with the
history entries it brings: what arrived, before anyone decides what it does.

``clientContent`` parts each go where they can be used (:class:`ContentReader`): text and the
words of audio parts into the turn's text, images to the camera, function calls and responses
into history as the session writes its own.

``toolResponse`` also settles the calls it answers: a blocking call's response goes straight to
the reply waiting for it (no turn decision: that reply is the turn); any other response becomes
an input. A response that crossed our ``toolCallCancellation`` is dropped; one for a call that was
never made ends the session (1007).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..engines.llm.tool_calling import ToolCalling
from ..protocol.client_messages import ClientContent, Setup, ToolResponse
from ..protocol.errors import ProtocolError
from .history import ROLE_TO_OPENAI, function_entries
from .media import Media
from .state import Input
from .tools import PendingCalls

log = logging.getLogger("openlive.session")

SCHEDULING = {
    "INTERRUPT": Input.RESULT_INTERRUPT,
    "WHEN_IDLE": Input.RESULT_WHEN_IDLE,  # also when the client names none
    "SILENT": Input.RESULT_SILENT,
}


@dataclass(frozen=True)
class Arrived:
    kind: Input
    entries: list[dict[str, Any]] = field(default_factory=list)


class Seeding:
    """``historyConfig.initialHistoryInClientContent``: the first ``clientContent`` messages,
    up to and including the one with ``turnComplete``, are the conversation so far, not a
    question (docs/protocol.md §4.1). Resumed sessions have their history already."""

    def __init__(self, setup: Setup, *, resumed: bool) -> None:
        config = setup.history_config
        self.active = bool(config and config.initial_history_in_client_content) and not resumed

    def see(self, message: ClientContent) -> bool:
        """Whether ``message`` is seeded history; the one with ``turnComplete`` is the last."""
        seeded = self.active
        if message.turn_complete:
            self.active = False
        return seeded


class ContentReader:
    """``clientContent`` turns → history entries, part by part, in order."""

    def __init__(self, media: Media, tool_calling: ToolCalling, seeding: Seeding) -> None:
        self.media = media
        self.tool_calling = tool_calling
        self.seeding = seeding
        self._call_ids: dict[str, str] = {}  # function name → its latest call's id

    async def read(self, message: ClientContent) -> Arrived | None:
        seeded = self.seeding.see(message)
        return content_input(message, await self.entries(message), seeded=seeded)

    async def entries(self, message: ClientContent) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for content in message.turns:
            role = ROLE_TO_OPENAI.get(content.role, "user")
            words: list[str] = []
            for part in content.parts:
                if part.text:
                    words.append(part.text)
                elif part.inline_data is not None:
                    if heard := await self.media.take_part(part.inline_data):
                        words.append(f" {heard}" if words else heard)
                elif part.function_call is not None or part.function_response is not None:
                    entries += _said(role, words)  # a call or result stands alone, where it came
                    words = []
                    entries += function_entries(part, self.tool_calling, self._call_ids)
                elif part.file_data is not None:
                    self.media.unused("fileData parts (files cannot be fetched)")
            entries += _said(role, words)
        return entries


def _said(role: str, words: list[str]) -> list[dict[str, Any]]:
    text = "".join(words)
    return [{"role": role, "content": text}] if text else []


def content_input(
    message: ClientContent, entries: list[dict[str, Any]], *, seeded: bool = False
) -> Arrived | None:
    """``clientContent``: turns for history; with ``turnComplete``, a request for an answer."""
    if seeded:
        return Arrived(Input.SEEDED_HISTORY, entries)
    if message.turn_complete:
        return Arrived(Input.CONTENT_TURN_COMPLETE, entries)
    return Arrived(Input.CONTENT, entries) if message.turns else None


def search_words(message: ClientContent) -> str | None:
    """The user's latest words in the message: what googleSearch looks up for the answer."""
    texts = [c.text() for c in message.turns if c.role in (None, "user") and c.text()]
    return texts[-1] if texts else None


def tool_response_inputs(
    message: ToolResponse, pending: PendingCalls, tool_calling: ToolCalling
) -> list[Arrived]:
    arrived: list[Arrived] = []
    for response in message.function_responses:
        call = pending.find(response.id, response.name)
        if call is None:
            if pending.was_cancelled(response.id):
                log.info("late response %s dropped: its call was cancelled", response.id)
                continue
            wanted = f"id {response.id!r}" if response.id else f"name {response.name!r}"
            raise ProtocolError(f"Invalid toolResponse: no pending function call with {wanted}.")
        if call.resumed:  # owed from before a reconnect: no reply waits for it
            pending.remove(call)
            entry = tool_calling.result_message(call.record, response.response)
            kind = Input.OWED_RESULT if pending.blocking() else Input.LAST_OWED_RESULT
            arrived.append(Arrived(kind, [entry]))
        elif call.blocking:  # the reply waiting in session/reply.py goes on
            pending.remove(call)
            call.response = response.response
            call.answered.set()
        else:
            if not response.will_continue:
                pending.remove(call)
            entry = tool_calling.late_result_message(call.record, response.response)
            kind = SCHEDULING.get(response.scheduling or "", Input.RESULT_WHEN_IDLE)
            arrived.append(Arrived(kind, [entry]))
    return arrived
