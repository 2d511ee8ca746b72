"""Client messages as the turn rules name them (session/state.py ``Input``), each with the
history entries it brings: what arrived, before anyone decides what it does.

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
from .history import content_entry
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


def content_input(message: ClientContent, *, seeded: bool = False) -> Arrived | None:
    """``clientContent``: turns for history; with ``turnComplete``, a request for an answer."""
    entries = [entry for content in message.turns if (entry := content_entry(content))]
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
