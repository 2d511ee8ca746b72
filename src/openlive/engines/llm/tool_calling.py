"""Function calling on top of a chat engine: two ways to let the model decide when to call.

- **native**: the functions go to the server as OpenAI ``tools`` with a ``tool_choice``
  (``auto``/``required``/``none``), and the streamed ``tool_calls`` deltas come back (arguments
  arrive in pieces and are concatenated). For remote servers and tool-capable models (Qwen2.5,
  Llama 3.x) whose chat template knows tools.
- **constrained**: for the embedded runtime, whose packaged models have no usable tool template
  (measured: the packaged Qwen2.5-Coder writes its native calls as plain text). The output is
  constrained by a JSON schema, ``anyOf`` ``{"calls": [{"name": <const>, "args": <its schema>},
  ...]}`` (one to a few calls) and ``{"reply": <string>}``, with the functions listed in the
  system prompt. A required call drops the reply branch; calls
  turned off (the model asked twice for what it has) leave only the reply branch, so the answer
  cannot imitate the calls it sees in the history.

  A constrained answer streams as JSON, so a reply needs care. ``inline`` (the default) decodes
  the ``"reply"`` string while it streams, JSON escapes included, even when one is split across
  chunks: one request, and the client's ``maxOutputTokens`` is applied to the reply's tokens (the
  request itself gets room for a call's arguments). ``two_step`` reads the constrained output only
  to its first key; ``{"reply"`` stops that generation and a second, plain request with the same
  prompt (a prompt-cache hit) streams the answer as ordinary prose. Measured with
  bench/tool_calls.py on the packaged model, 2 CPU threads: first reply text 109 ms p50 / 140 ms
  p95 inline against 155 / 210 ms two-step, same decisions. Two-step prose reads better, but after
  a call the small model copies the JSON it sees in the history into its "plain" answer; inline
  cannot do that. Calls are the same in both modes.

Both turn the history of calls and results into messages the model can read: OpenAI ``assistant``
``tool_calls`` + ``tool`` messages (native), or plain text (constrained).

No protocol here: a function is a name, a description and a JSON schema.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Literal, Protocol

from .base import ChatRequest, LLMEngine, Usage

log = logging.getLogger("openlive.llm.tools")

CALL_TOKEN_BUDGET = 512  # a call's arguments must not be cut by the client's reply-length cap
MAX_CALLS_AT_ONCE = 4  # small models repeat a call until the token budget runs out


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    """JSON Schema of the arguments (an object schema)."""


class ToolChoice(Enum):
    AUTO = "auto"  # the model decides: a call or an answer
    REQUIRED = "required"  # the model must call one of the functions
    NONE = "none"  # no calls


@dataclass(frozen=True)
class ModelCall:
    """A call the model made: which function, with which arguments."""

    name: str
    args: dict[str, Any]

    def key(self) -> str:
        """Identity of the call, to notice a model asking for the same thing twice."""
        return self.name + json.dumps(self.args, sort_keys=True)


@dataclass(frozen=True)
class StepEvent:
    """What one generation step yields: reply text as it streams, usage, and (last) calls."""

    text: str = ""
    usage: Usage | None = None
    calls: tuple[ModelCall, ...] = ()


@dataclass(frozen=True)
class CallRecord:
    """A call as history keeps it: the id the client saw, the function, the arguments."""

    id: str
    name: str
    args: dict[str, Any]


class ToolCalling(Protocol):
    name: str

    def step(
        self,
        llm: LLMEngine,
        request: ChatRequest,
        functions: Sequence[FunctionSpec],
        choice: ToolChoice,
    ) -> AsyncGenerator[StepEvent, None]:
        """Generate one step: stream the reply text, or end with the calls the model made."""
        ...

    def call_messages(self, text: str, calls: Sequence[CallRecord]) -> list[dict[str, Any]]:
        """History entries for an assistant turn that (said ``text`` and) made ``calls``."""
        ...

    def result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        """History entry for a call's result, right after the call."""
        ...

    def placeholder_message(self, call: CallRecord) -> dict[str, Any] | None:
        """History entry for a non-blocking call whose result will come later, if one is needed
        to keep the history well-formed."""
        ...

    def late_result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        """History entry for a non-blocking call's result that arrives turns later."""
        ...


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _known(calls: Sequence[ModelCall], functions: Sequence[FunctionSpec]) -> tuple[ModelCall, ...]:
    names = {function.name for function in functions}
    known = tuple(call for call in calls if call.name in names)
    for call in calls:
        if call.name not in names:
            log.warning("the model called an undeclared function %r; dropped", call.name[:60])
    return known


def _text_result(call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": f"Result of {call.name}: {_compact(response)}"}


# -- native -----------------------------------------------------------------------------------


class NativeToolCalling:
    """OpenAI ``tools`` / ``tool_choice`` in, streamed ``tool_calls`` out."""

    name = "native"

    async def step(
        self,
        llm: LLMEngine,
        request: ChatRequest,
        functions: Sequence[FunctionSpec],
        choice: ToolChoice,
    ) -> AsyncGenerator[StepEvent, None]:
        if functions:
            tools = [
                {
                    "type": "function",
                    "function": {
                        "name": function.name,
                        "description": function.description,
                        "parameters": function.parameters,
                    },
                }
                for function in functions
            ]
            request = replace(request, tools=tools, tool_choice=choice.value)
        if choice is ToolChoice.REQUIRED:
            request = replace(request, max_tokens=_call_budget(request.max_tokens))
        pieces: dict[int, dict[str, str]] = {}
        stream = llm.stream(request)
        async with contextlib.aclosing(stream):
            async for delta in stream:
                if delta.usage is not None:
                    yield StepEvent(usage=delta.usage)
                if delta.text:
                    yield StepEvent(text=delta.text)
                for piece in delta.tool_calls:
                    _merge_tool_call_piece(pieces, piece)
        calls = [call for index in sorted(pieces) if (call := _parse_native(pieces[index]))]
        if calls:
            yield StepEvent(calls=_known(calls, functions))

    def call_messages(self, text: str, calls: Sequence[CallRecord]) -> list[dict[str, Any]]:
        return [
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.args)},
                    }
                    for call in calls
                ],
            }
        ]

    def result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": call.id, "content": json.dumps(response)}

    def placeholder_message(self, call: CallRecord) -> dict[str, Any] | None:
        # Every assistant tool_call needs its tool message before the conversation goes on.
        status = {"status": "running in the background; the result will follow"}
        return self.result_message(call, status)

    def late_result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        return _text_result(call, response)


def _merge_tool_call_piece(pieces: dict[int, dict[str, str]], piece: dict[str, Any]) -> None:
    index = int(piece.get("index") or 0)
    current = pieces.setdefault(index, {"id": "", "name": "", "arguments": ""})
    if piece.get("id"):
        current["id"] = piece["id"]
    function = piece.get("function") or {}
    if function.get("name"):
        current["name"] += function["name"]
    if function.get("arguments"):
        current["arguments"] += function["arguments"]


def _parse_native(piece: dict[str, str]) -> ModelCall | None:
    try:
        args = json.loads(piece["arguments"]) if piece["arguments"].strip() else {}
    except json.JSONDecodeError:
        log.warning("malformed arguments for %r: %r", piece["name"], piece["arguments"][:80])
        return None
    if not piece["name"] or not isinstance(args, dict):
        log.warning("malformed tool call: %r", piece)
        return None
    return ModelCall(piece["name"], args)


def _call_budget(max_tokens: int | None) -> int | None:
    return None if max_tokens is None else max(max_tokens, CALL_TOKEN_BUDGET)


# -- constrained ------------------------------------------------------------------------------

ReplyMode = Literal["two_step", "inline"]


class ConstrainedToolCalling:
    """A JSON schema chooses between calls and a reply; the functions are listed in the prompt."""

    name = "constrained"

    def __init__(self, reply_mode: ReplyMode = "inline") -> None:
        self.reply_mode = reply_mode

    async def step(
        self,
        llm: LLMEngine,
        request: ChatRequest,
        functions: Sequence[FunctionSpec],
        choice: ToolChoice,
    ) -> AsyncGenerator[StepEvent, None]:
        if not functions:
            async for event in _plain(llm, request):
                yield event
            return
        # One system prompt whatever the choice: the prompt cache keeps working; the schema
        # alone decides whether a call, a reply, or either may come.
        plain = replace(request, messages=with_tools_prompt(request.messages, functions))
        inline = self.reply_mode == "inline"
        if choice is ToolChoice.NONE and not inline:
            async for event in _plain(llm, plain):
                yield event
            return
        schema = decision_schema(functions, choice)
        response_format = {"type": "json_schema", "json_schema": {"name": "turn", "schema": schema}}
        constrained = replace(
            plain, response_format=response_format, max_tokens=_call_budget(request.max_tokens)
        )
        reply_cap = request.max_tokens or 0
        decoder, reply_tokens = DecisionDecoder(), 0
        stream = llm.stream(constrained)
        async with contextlib.aclosing(stream):
            async for delta in stream:
                if delta.usage is not None:
                    yield StepEvent(usage=delta.usage)
                text = decoder.feed(delta.text) if delta.text else ""
                if decoder.kind == "reply" and not inline:
                    break  # closing the stream stops that generation
                if text:
                    yield StepEvent(text=text)
                if decoder.kind == "reply" and delta.text:
                    reply_tokens += 1  # the runtimes stream one token per chunk
                    if reply_cap and reply_tokens >= reply_cap:
                        break  # the client's maxOutputTokens holds for the reply
        calls = decoder.calls() if decoder.kind == "call" else []
        if calls:
            yield StepEvent(calls=_known(calls, functions))
        elif choice is not ToolChoice.REQUIRED and (not inline or decoder.kind != "reply"):
            # two_step's reply, or output too broken to use: answer in prose.
            async for event in _plain(llm, plain):
                yield event

    def call_messages(self, text: str, calls: Sequence[CallRecord]) -> list[dict[str, Any]]:
        # The model reads its own calls back in the format it writes them.
        body = {"calls": [{"name": call.name, "args": call.args} for call in calls]}
        content = f"{text}\n{_compact(body)}" if text else _compact(body)
        return [{"role": "assistant", "content": content}]

    def result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        return _text_result(call, response)

    def placeholder_message(self, call: CallRecord) -> dict[str, Any] | None:
        return None

    def late_result_message(self, call: CallRecord, response: dict[str, Any]) -> dict[str, Any]:
        return _text_result(call, response)


async def _plain(llm: LLMEngine, request: ChatRequest) -> AsyncGenerator[StepEvent, None]:
    stream = llm.stream(request)
    async with contextlib.aclosing(stream):
        async for delta in stream:
            if delta.usage is not None:
                yield StepEvent(usage=delta.usage)
            if delta.text:
                yield StepEvent(text=delta.text)


def tools_prompt(functions: Sequence[FunctionSpec]) -> str:
    """The system-prompt addition that tells the model its functions and its answer format."""
    lines = ["# Tools", "You may call these functions when the user's request needs one:"]
    for function in functions:
        lines.append(
            _compact(
                {
                    "name": function.name,
                    "description": function.description,
                    "parameters": function.parameters,
                }
            )
        )
    lines.append(
        'To call functions, write {"calls": [{"name": "<function name>", "args": {<arguments>}}]}'
        " with one item per request. "
        'To answer the user directly, write {"reply": "<your answer>"}. '
        "Most messages need no function."
    )
    return "\n".join(lines)


def with_tools_prompt(
    messages: list[dict[str, Any]], functions: Sequence[FunctionSpec]
) -> list[dict[str, Any]]:
    """``messages`` with the tools prompt at the end of the system message (a stable prefix, so
    the prompt cache keeps working from turn to turn)."""
    addition = tools_prompt(functions)
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        return [{**first, "content": f"{first.get('content') or ''}\n\n{addition}"}, *messages[1:]]
    return [{"role": "system", "content": addition}, *messages]


def decision_schema(
    functions: Sequence[FunctionSpec], choice: ToolChoice = ToolChoice.AUTO
) -> dict:
    """``anyOf`` a call to each function and several calls (unless calls are off: NONE), and a
    reply (unless a call is required: REQUIRED)."""

    def call_of(function: FunctionSpec) -> dict[str, Any]:
        return _object(
            {"name": {"const": function.name}, "args": closed_schema(function.parameters)}
        )

    branches: list[dict[str, Any]] = []
    if choice is not ToolChoice.NONE:
        # One "calls" list, not a single-call branch beside a list: given both, the packaged
        # Qwen always took the single call and asked for one city of "Paris and Berlin"
        # (bench/tool_calls.py: parallel requests 0/2 before, 2/2 with the list alone).
        calls = [call_of(function) for function in functions]
        branches.append(
            _object(
                {
                    "calls": {
                        "type": "array",
                        "items": {"anyOf": calls},
                        "minItems": 1,
                        "maxItems": MAX_CALLS_AT_ONCE,
                    }
                }
            )
        )
    if choice is not ToolChoice.REQUIRED:
        branches.append(_object({"reply": {"type": "string"}}))
    return {"anyOf": branches}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def closed_schema(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` wherever an object schema leaves it open,
    so the grammar does not let the model invent arguments."""
    if isinstance(schema, list):
        return [closed_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: closed_schema(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    if closed.get("type") == "object" and "properties" not in closed:
        closed.setdefault("properties", {})
        closed.setdefault("additionalProperties", False)
    return closed


# -- reading constrained output as it streams -------------------------------------------------

_REPLY_START = re.compile(r'\s*\{\s*"reply"\s*:\s*"')
_CALL_START = re.compile(r'\s*\{\s*"calls?"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class DecisionDecoder:
    """Reads constrained output chunk by chunk: decides early whether it is a reply or calls,
    and hands out the reply string's characters as they arrive (JSON escapes decoded, also when
    one is split across chunks)."""

    def __init__(self) -> None:
        self.raw = ""
        self.kind: Literal["reply", "call"] | None = None
        self._position = 0  # in the reply: index of the next undecoded character of ``raw``
        self._reply_done = False

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the reply text it completed (empty for calls)."""
        self.raw += chunk
        if self.kind is None:
            if match := _REPLY_START.match(self.raw):
                self.kind, self._position = "reply", match.end()
            elif _CALL_START.match(self.raw):
                self.kind = "call"
        if self.kind != "reply" or self._reply_done:
            return ""
        return self._decode_reply()

    def _decode_reply(self) -> str:
        out: list[str] = []
        raw, i = self.raw, self._position
        while i < len(raw):
            char = raw[i]
            if char == '"':
                self._reply_done = True
                i += 1
                break
            if char != "\\":
                out.append(char)
                i += 1
                continue
            if i + 1 >= len(raw):
                break  # the escape continues in the next chunk
            code = raw[i + 1]
            if code != "u":
                out.append(_ESCAPES.get(code, code))
                i += 2
                continue
            if i + 6 > len(raw):
                break
            unit = int(raw[i + 2 : i + 6], 16)
            if 0xD800 <= unit < 0xDC00:  # a surrogate pair: wait for its second half
                if i + 12 > len(raw):
                    break
                low = int(raw[i + 8 : i + 12], 16)
                out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                i += 12
            else:
                out.append(chr(unit))
                i += 6
        self._position = i
        return "".join(out)

    def calls(self) -> list[ModelCall]:
        """The calls in the finished output; none if it was cut short or malformed."""
        try:
            decoded = json.loads(self.raw)
        except json.JSONDecodeError:
            log.warning("constrained output is not complete JSON: %r", self.raw[:120])
            return []
        if not isinstance(decoded, dict):
            return []
        entries = decoded.get("calls") or ([decoded["call"]] if "call" in decoded else [])
        return [
            ModelCall(entry["name"], entry.get("args") or {})
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("name"), str)
        ]


# -- choosing a strategy ----------------------------------------------------------------------


def create_tool_calling(mode: str, llm_setting: str, reply_mode: ReplyMode = "inline"):
    """``native``, ``constrained``, or ``auto``: native for an ``openai:`` server, constrained
    for the embedded runtime (its packaged model has no tool-capable chat template)."""
    if mode == "auto":
        mode = "native" if llm_setting.startswith("openai:") else "constrained"
    if mode == "native":
        return NativeToolCalling()
    if mode == "constrained":
        return ConstrainedToolCalling(reply_mode)
    raise ValueError(f"unknown tool-calling mode {mode!r}; use native, constrained or auto")
