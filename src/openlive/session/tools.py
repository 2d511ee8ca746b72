"""A session's tools: what setup (or a contextUpdate) declared, which of it the model may call
now, and the calls the client has yet to answer.

- Declarations come as ``parameters`` (Gemini's OpenAPI-style schema; google-genai sends
  UPPERCASE types and snake_case keys) or ``parametersJsonSchema`` (plain JSON Schema); both end up
  as JSON Schema for the engine.
- ``toolConfig.functionCallingConfig.mode``: AUTO (default) lets the model choose; ANY makes the
  first step of a user turn a call (to ``allowedFunctionNames`` when given; after the results the
  model may answer, or it could never stop calling); NONE offers no functions at all.
- ``behavior`` BLOCKING (default): the reply waits for the response. NON_BLOCKING: the turn ends
  after the call and the response's ``scheduling`` decides what happens when it arrives.
- Call ids are ``call_<hex>``, unique per process. Ids cancelled by a barge-in are remembered, so
  a response that crossed the cancellation on the wire is dropped instead of closing the session.
- A blocking call the client leaves unanswered for ``tool_response_timeout_s`` is cancelled the
  same way (``toolCallCancellation``) and answered in history with an error result, so the reply
  goes on: Firebase Web's helper sends one response per ``toolCall`` and can leave a call out.
- At most ``max_pending_calls`` calls wait for a response (docs/limits.md). Before a ``toolCall``
  that would pass the bound goes out, the oldest calls no reply waits for (non-blocking ones, and
  blocking ones owed from before a resume) are cancelled the same way, a blocking one answered in
  history with an error result. Not a 1008: a client may treat NON_BLOCKING calls as fire and
  forget and never answer them, and its conversation should go on for hours; a late response to
  an evicted call is dropped like any response that crossed a cancellation. One step that asks
  for more calls than the bound gets only the first ones made (the model's runaway, not the
  client's).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..engines.llm.tool_calling import CallRecord, FunctionSpec, ToolCalling, ToolChoice
from ..protocol.client_messages import FunctionDeclaration, Tool, ToolConfig
from ..protocol.errors import ProtocolError

log = logging.getLogger("openlive.session.tools")


def _camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(part.title() for part in rest)


_PLAIN = ("format", "title", "description", "pattern", "minimum", "maximum", "default")
_BOUNDS = (
    *("min_items", "max_items", "min_length", "max_length"),
    *("min_properties", "max_properties"),
)
# OpenAPI-style Schema field, snake_case or camelCase → the JSON Schema keyword.
_KEYS = {name: name for name in _PLAIN}
_KEYS |= {name: _camel(name) for name in _BOUNDS} | {_camel(name): _camel(name) for name in _BOUNDS}


def _get(schema: dict[str, Any], snake: str) -> Any:
    return schema[snake] if snake in schema else schema.get(_camel(snake))


def json_schema_from_openapi(schema: Any) -> Any:
    """Gemini's OpenAPI-subset ``Schema`` → JSON Schema: types lowercased, ``nullable`` as a
    ``null`` type, ``enum``, ``items``, ``properties`` (in ``propertyOrdering``), ``required``,
    ``format``, ``anyOf`` and the length/size/range bounds carried over."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        keyword = _KEYS.get(key)
        if keyword is not None and value is not None:
            out[keyword] = value
    kind = schema.get("type")
    if isinstance(kind, str) and kind.upper() not in ("", "TYPE_UNSPECIFIED"):
        out["type"] = kind.lower()
    if out.get("type") == "integer":
        for bound in ("minimum", "maximum"):
            if isinstance(out.get(bound), float) and out[bound].is_integer():
                out[bound] = int(out[bound])
    if schema.get("enum") is not None:
        out["enum"] = list(schema["enum"])
    if (items := schema.get("items")) is not None:
        out["items"] = json_schema_from_openapi(items)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        order = _get(schema, "property_ordering") or []
        names = [name for name in order if name in properties]
        names += [name for name in properties if name not in names]
        out["properties"] = {name: json_schema_from_openapi(properties[name]) for name in names}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    if any_of := _get(schema, "any_of"):
        out["anyOf"] = [json_schema_from_openapi(option) for option in any_of]
    if (example := schema.get("example")) is not None:
        out["examples"] = [example]
    if schema.get("nullable"):
        _allow_null(out)
    return out


def _allow_null(schema: dict[str, Any]) -> None:
    if "type" in schema:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"].append(None)
    elif "anyOf" in schema:
        schema["anyOf"].append({"type": "null"})


def parameters_of(declaration: FunctionDeclaration) -> dict[str, Any]:
    if isinstance(declaration.parameters_json_schema, dict):
        return declaration.parameters_json_schema
    if declaration.parameters:
        return json_schema_from_openapi(declaration.parameters)
    return {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Declared:
    spec: FunctionSpec
    blocking: bool


class ToolBox:
    """The tools of a session as the model sees them, and the calling mode."""

    def __init__(self, tools: list[Tool], tool_config: ToolConfig | None = None) -> None:
        self.functions: dict[str, Declared] = {}
        self.google_search = False
        for tool in tools:
            if tool.google_search is not None or tool.google_search_retrieval is not None:
                self.google_search = True
            for declaration in tool.function_declarations:
                if not declaration.name:
                    raise ProtocolError("Invalid setup: every function declaration needs a name.")
                self.functions[declaration.name] = Declared(
                    FunctionSpec(
                        declaration.name, declaration.description or "", parameters_of(declaration)
                    ),
                    blocking=declaration.behavior != "NON_BLOCKING",
                )
        config = tool_config.function_calling_config if tool_config else None
        self.mode = (config.mode if config else None) or "AUTO"
        allowed = config.allowed_function_names if config else []
        unknown = [name for name in allowed if name not in self.functions]
        if unknown:
            log.warning("allowedFunctionNames names undeclared functions: %s", unknown)
        self.allowed = [name for name in allowed if name in self.functions]

    def __bool__(self) -> bool:
        return bool(self.functions)

    def offered(self, *, first_step: bool) -> tuple[list[FunctionSpec], ToolChoice]:
        """The functions the model may call in this step, and whether it must."""
        if self.mode == "NONE" or not self.functions:
            return [], ToolChoice.NONE
        names = self.allowed or list(self.functions)
        specs = [self.functions[name].spec for name in names]
        if self.mode == "ANY" and first_step:
            return specs, ToolChoice.REQUIRED
        return specs, ToolChoice.AUTO

    def is_blocking(self, name: str) -> bool:
        declared = self.functions.get(name)
        return declared.blocking if declared else True


@dataclass
class PendingCall:
    record: CallRecord
    blocking: bool
    generation: int  # the reply that made it
    response: dict[str, Any] | None = None
    resumed: bool = False  # pending when the session was resumed: no reply is waiting for it
    answered: asyncio.Event = field(default_factory=asyncio.Event)


CANCELLED_RESULT = {"error": "cancelled: the user interrupted before the result arrived"}
TIMED_OUT_RESULT = {"error": "timed out: the function returned no result in time"}
EVICTED_RESULT = {"error": "cancelled: too many calls were waiting for a result"}


def cancelled_results(
    cancelled: list[PendingCall],
    tool_calling: ToolCalling,
    result: dict[str, Any] = CANCELLED_RESULT,
) -> list[dict[str, Any]]:
    """History entries for blocking calls cut off (by a barge-in, or evicted): every call in
    history gets an answer, and this one says that none came."""
    return [tool_calling.result_message(call.record, result) for call in cancelled if call.blocking]


def new_call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


class PendingCalls:
    """Calls sent in ``toolCall`` and not answered yet, oldest first: at most ``max_calls``
    once :meth:`make_room` has made room for the next ones (0: no bound)."""

    def __init__(self, max_calls: int = 0) -> None:
        self.max_calls = max_calls
        self._calls: dict[str, PendingCall] = {}
        self._cancelled: deque[str] = deque(maxlen=256)

    def __bool__(self) -> bool:
        return bool(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def make_room(self, count: int) -> list[PendingCall]:
        """Before ``count`` new calls go out: cancel the oldest calls no reply waits for until
        they fit under ``max_calls``; returns those, for ``toolCallCancellation``. A blocking
        call of a running reply is never one: only one reply runs, and the calls of its earlier
        steps are answered (or timed out) before it makes more."""
        excess = len(self._calls) + count - self.max_calls if self.max_calls else 0
        if excess <= 0:
            return []
        idle = [c for c in self._calls.values() if c.resumed or not c.blocking]
        evicted = idle[:excess]
        for call in evicted:
            self.remove(call)
            self._cancelled.append(call.record.id)
        return evicted

    def add(self, call: PendingCall) -> None:
        self._calls[call.record.id] = call

    def find(self, call_id: str | None, name: str) -> PendingCall | None:
        """By id; without one (Vertex allows that), the oldest pending call of that name."""
        if call_id:
            return self._calls.get(call_id)
        return next((c for c in self._calls.values() if c.record.name == name), None)

    def was_cancelled(self, call_id: str | None) -> bool:
        return call_id is not None and call_id in self._cancelled

    def blocking(self) -> list[PendingCall]:
        return [call for call in self._calls.values() if call.blocking]

    def remove(self, call: PendingCall) -> None:
        self._calls.pop(call.record.id, None)

    def time_out(self, waiting: list[PendingCall]) -> list[PendingCall]:
        """The calls of ``waiting`` still unanswered: cancelled, each given TIMED_OUT_RESULT."""
        unanswered = [call for call in waiting if not call.answered.is_set()]
        for call in unanswered:
            self.remove(call)
            self._cancelled.append(call.record.id)
            call.response = TIMED_OUT_RESULT
            call.answered.set()
        return unanswered

    def cancel_generation(self, generation: int) -> list[PendingCall]:
        """Drop the calls made by reply ``generation``; their ids go to toolCallCancellation."""
        cancelled = [c for c in self._calls.values() if c.generation == generation]
        for call in cancelled:
            self.remove(call)
            self._cancelled.append(call.record.id)
        return cancelled
