"""Bytes ↔ typed messages. Every failure to decode is a ``ProtocolError`` with a close code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .b64 import decode_lenient
from .client_messages import MESSAGE_TYPES, Blob, ClientMessage, RealtimeInput, Setup
from .errors import ProtocolError, invalid_json, unknown_field
from .server_messages import ServerMessage

DEFAULT_MAX_DEPTH = 64  # settings.max_json_depth; protobuf's own parser stops at 100

_CAMEL_NAMES = {
    "setup": "setup",
    "client_content": "clientContent",
    "realtime_input": "realtimeInput",
    "tool_response": "toolResponse",
    "context_update": "contextUpdate",
}


@dataclass(frozen=True)
class Decoded:
    message: ClientMessage
    unknown_fields: list[tuple[str, str]] = field(default_factory=list)
    """``(name, path)`` of undeclared fields: the caller logs them or, in strict mode, refuses."""


def decode_client_message(
    frame: str | bytes, *, max_bytes: int | None = None, max_depth: int = DEFAULT_MAX_DEPTH
) -> Decoded:
    """Decode one client frame (text or binary, UTF-8 JSON) into exactly one typed message.

    The size is checked before parsing and the nesting depth before validation: both bound the
    work one message can cost (docs/limits.md)."""
    size = len(frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame)
    if max_bytes is not None and size > max_bytes:
        raise ProtocolError(f"Request payload size exceeds the limit: {max_bytes} bytes.")
    try:
        # Decode binary frames strictly ourselves: json.loads(bytes) would let encoded
        # surrogates through and guess UTF-16/32.
        text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
        payload = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError, ...
        raise invalid_json(f"Syntax error: {type(error).__name__}.") from None
    if not isinstance(payload, dict):
        raise invalid_json("Expected a JSON object at the top level.")
    if _ESCAPED_SURROGATE.search(text):
        payload = _without_lone_surrogates(payload)
    present = {key: value for key, value in payload.items() if value is not None}
    for key in present:
        if key not in MESSAGE_TYPES:
            raise unknown_field(key, "")
    if len(present) != 1:
        names = ", ".join(_CAMEL_NAMES.get(k, k) for k in present) or "none"
        raise invalid_json(f"Expected exactly one message field, got {len(present)}: {names}.")
    ((key, body),) = present.items()
    if not isinstance(body, dict):
        raise invalid_json(f"Invalid value at '{_CAMEL_NAMES.get(key, key)}': expected an object.")
    model_type = MESSAGE_TYPES[key]
    if model_type is RealtimeInput and (fast := _plain_audio(body)) is not None:
        return Decoded(fast)
    if _deeper_than(body, max_depth - 1):
        raise invalid_json(f"Message nested deeper than {max_depth} levels.")
    try:
        message = model_type.model_validate(body)
    except ValidationError as error:
        raise _validation_error(key, error) from None
    except RecursionError:
        raise invalid_json("Message nested too deeply.") from None
    path = _snake(key)
    return Decoded(message, message.unknown_fields(path))  # type: ignore[arg-type]


_BLOB_KEYS = {"data", "mimeType", "mime_type"}
# json.loads turns an unpaired "\ud800" escape into a lone surrogate, which no UTF-8 encoder
# takes: it failed the LLM request (1011) later. Only an escape can make one (text frames are
# strict UTF-8), so frames without such an escape skip the walk.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels of objects and arrays. Iterative: the
    validator and the unknown-field walk recurse, so depth is refused before they run."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _plain_audio(body: dict) -> RealtimeInput | None:
    """The microphone's message, ``{"audio": {"mimeType": str, "data": str}}``, built without
    the general validator: clients send it up to hundreds of times a second (Firebase Web: one
    per render quantum), and the general validation (JSON walk, unknown-field scan) was most
    of its cost. Anything else, or anything odd in it, returns None and takes the general path
    (which gives the precise error)."""
    if len(body) != 1:
        return None
    audio = body.get("audio")
    if not isinstance(audio, dict) or not audio.keys() <= _BLOB_KEYS:
        return None
    data = audio.get("data")
    mime_type = audio.get("mimeType", audio.get("mime_type", ""))
    if not isinstance(data, str) or not isinstance(mime_type, str):
        return None
    try:
        decoded = decode_lenient(data)
    except ValueError:
        return None
    return RealtimeInput(audio=Blob(data=decoded, mime_type=mime_type))


def encode_server_message(message: ServerMessage) -> bytes:
    """UTF-8 JSON for one BINARY frame (iOS and Flutter drop text frames)."""
    text = json.dumps(message.to_wire(), separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", errors="replace")  # a lone surrogate from client text → "?"


def describe_setup(setup: Setup) -> str:
    return setup.model.removeprefix("models/") or "(none)"


def _snake(key: str) -> str:
    return {v: k for k, v in _CAMEL_NAMES.items()}.get(key, key)


def _validation_error(key: str, error: ValidationError) -> ProtocolError:
    first = error.errors(include_url=False)[0]
    location = ".".join([_snake(key), *(str(part) for part in first["loc"])])
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return invalid_json(f"Invalid value at '{location}': {message}.")
