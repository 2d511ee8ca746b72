"""What a resumed session needs to go on: the conversation, its setup, and the blocking calls the
client still owes a response for (docs/protocol.md §6.5: a pending call survives a reconnect).

A snapshot is plain JSON, stored behind a handle (session/resumption.py, session/handles.py).
"""

from __future__ import annotations

from typing import Any

from ..engines.llm.tool_calling import CallRecord
from ..protocol.client_messages import Setup
from .history import Conversation
from .tools import PendingCall, PendingCalls


def take_snapshot(
    session_id: str, setup: Setup, conversation: Conversation, pending: PendingCalls
) -> dict[str, Any]:
    """Everything needed to continue this conversation elsewhere."""
    return {
        "session_id": session_id,
        "model": setup.model,
        "setup": setup.model_dump(mode="json", by_alias=True, exclude_none=True),
        "system_instruction": conversation.system_instruction,
        "entries": [dict(entry) for entry in conversation.entries],
        "pending_calls": [
            {"id": c.record.id, "name": c.record.name, "args": c.record.args}
            for c in pending.blocking()
        ],
    }


def restore_snapshot(
    snapshot: dict[str, Any], setup: Setup, conversation: Conversation, pending: PendingCalls
) -> None:
    """Continue a stored conversation. The new setup may change anything but the model; what it
    leaves out (system instruction, tools) comes from the stored one."""
    stored = Setup.model_validate(snapshot.get("setup") or {})
    if setup.system_instruction is None:
        conversation.system_instruction = snapshot.get("system_instruction", "")
    if not setup.tools:
        setup.tools = stored.tools
    if setup.tool_config is None:
        setup.tool_config = stored.tool_config
    conversation.entries = [dict(entry) for entry in snapshot.get("entries", [])]
    for call in snapshot.get("pending_calls", []):
        record = CallRecord(call["id"], call["name"], call.get("args") or {})
        pending.add(PendingCall(record, blocking=True, generation=-1, resumed=True))
