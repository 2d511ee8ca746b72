"""The conversation as the LLM sees it, in OpenAI chat-completions form.

Entries are only ever appended, never rewritten, so the rendered prompt of turn N is a byte-for-byte
prefix of turn N+1's and the runtime's prompt cache is reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engines.llm.tool_calling import CallRecord, ToolCalling
from ..protocol.client_messages import Content, Part
from .tools import new_call_id

ROLE_TO_OPENAI = {"user": "user", "model": "assistant", "assistant": "assistant", None: "user"}

# Used only when the client sends no systemInstruction (the client's always rules). Without one,
# chat templates put in their own ("You are Qwen, created by Alibaba Cloud") and the packaged
# Qwen says it was "created by OpenAI"; a name of its own was what made it stop (measured with
# bench/llm_quality.py). Replies that are spoken aloud must be short. A constant, so the prompt
# prefix (and its cache) never changes between turns.
DEFAULT_INSTRUCTION = (
    "You are Live, the assistant built into this app, talking with the user. If asked who you "
    "are or who made you, say that you are Live, this app's assistant; you are not ChatGPT, "
    "Claude or Qwen. Answer briefly, in one to three short sentences of plain words, with no "
    "lists or markdown, unless the user asks for more detail."
)


@dataclass
class Conversation:
    system_instruction: str = ""
    """The client's own; empty → ``default_instruction`` is what the model sees."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    default_instruction: str = DEFAULT_INSTRUCTION

    def append(self, role: str, text: str) -> None:
        if text:
            self.entries.append({"role": role, "content": text})

    def append_content(self, content: Content) -> None:
        if (entry := content_entry(content)) is not None:
            self.entries.append(entry)

    def append_message(self, message: dict[str, Any]) -> None:
        """A message as is: an assistant turn with ``tool_calls``, a ``tool`` result."""
        self.entries.append(message)

    def last_user_text(self) -> str:
        for entry in reversed(self.entries):
            if entry["role"] == "user" and isinstance(entry.get("content"), str):
                return entry["content"]
        return ""

    def messages(self) -> list[dict[str, Any]]:
        """System instruction first, then the turns, consecutive same-role turns joined.

        Many chat templates insist that user and assistant alternate; joining at render time keeps
        the stored entries untouched.
        """
        rendered: list[dict[str, Any]] = []
        instruction = self.system_instruction or self.default_instruction
        if instruction:
            rendered.append({"role": "system", "content": instruction})
        for entry in self.entries:
            if rendered and _joinable(rendered[-1], entry):
                rendered[-1] = {
                    **rendered[-1],
                    "content": rendered[-1]["content"] + "\n" + entry["content"],
                }
            else:
                rendered.append(dict(entry))
        return rendered


def instruction_text(content: Content | None) -> str:
    """A system instruction's text (its role, "user" or "system" by client, is ignored)."""
    return content.text() if content is not None else ""


def content_entry(content: Content) -> dict[str, Any] | None:
    """A ``Content`` turn as a history entry; None when it holds no text."""
    text = content.text()
    return {"role": ROLE_TO_OPENAI.get(content.role, "user"), "content": text} if text else None


def function_entries(
    part: Part, tool_calling: ToolCalling, call_ids: dict[str, str]
) -> list[dict[str, Any]]:
    """A ``functionCall`` or ``functionResponse`` part of ``clientContent`` (earlier calls the
    client replays) in the form the session writes its own calls and results, so the model
    reads them as it reads those. ``call_ids`` maps a function name to its latest call's id,
    for a response that names the function but not the call; a response to no call in the
    content is written as a late result (a ``tool`` message must follow its call)."""
    if (call := part.function_call) is not None:
        call_id = call.id or new_call_id()
        call_ids[call.name] = call_id
        return tool_calling.call_messages("", [CallRecord(call_id, call.name, call.args)])
    if (response := part.function_response) is not None:
        known = response.id if response.id in call_ids.values() else call_ids.get(response.name)
        record = CallRecord(known or response.id or "", response.name, {})
        if known is None:  # no call of ours to follow: a result that stands on its own
            return [tool_calling.late_result_message(record, response.response)]
        return [tool_calling.result_message(record, response.response)]
    return []


def _joinable(previous: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Plain text turns of the same speaker; tool calls and results always stand alone."""
    return (
        previous["role"] == entry["role"] not in ("system", "tool")
        and isinstance(previous.get("content"), str)
        and isinstance(entry.get("content"), str)
        and "tool_calls" not in previous
        and "tool_calls" not in entry
    )
