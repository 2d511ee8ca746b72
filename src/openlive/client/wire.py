"""JSON on the wire: client messages built as @google/genai (JS) builds them, server messages parsed
into typed events.

Outgoing keys are lowerCamelCase at every level and base64 is the standard alphabet
(docs/protocol.md §3.2, §3.3), exactly what the official JS SDK sends. Incoming messages are read
leniently: camelCase or snake_case, either base64 alphabet, unknown fields and unknown top-level
keys ignored.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol.b64 import decode_lenient
from .types import (
    Blob,
    Content,
    FunctionResponse,
    GenerationComplete,
    GoAway,
    Interrupted,
    LiveMessage,
    Part,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    Transcription,
    TurnComplete,
    Usage,
)
from .types import FunctionCall as FunctionCallEvent

log = logging.getLogger("openlive.client")

Json = dict[str, Any]
ContentLike = str | Mapping[str, Any]
"""A user turn: plain text, or a ``Content`` object as JSON (``{"role": ..., "parts": [...]}``)."""


def dumps(message: Json) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- client → server ---------------------------------------------------------------------------


def user_content(turn: ContentLike) -> Json:
    if isinstance(turn, str):
        return {"role": "user", "parts": [{"text": turn}]}
    return dict(turn)


def client_content(turns: ContentLike | Sequence[ContentLike], turn_complete: bool) -> Json:
    items = [turns] if isinstance(turns, str | Mapping) else list(turns)
    return {
        "clientContent": {
            "turns": [user_content(turn) for turn in items],
            "turnComplete": turn_complete,
        }
    }


def blob(media: Blob) -> Json:
    return {"data": b64(media.data), "mimeType": media.mime_type}


def realtime_input(**field: Any) -> Json:
    """One ``realtimeInput`` message with exactly one field (docs/protocol.md §4.3)."""
    ((name, value),) = field.items()
    return {"realtimeInput": {name: value}}


def tool_response(responses: Iterable[FunctionResponse | Mapping[str, Any]]) -> Json:
    items: list[Json] = []
    for response in responses:
        if isinstance(response, FunctionResponse):
            item: Json = {"id": response.id, "name": response.name, "response": response.response}
            if response.scheduling is not None:
                item["scheduling"] = response.scheduling
            items.append(item)
        else:
            items.append(dict(response))
    if not items:
        raise ValueError("send_function_responses needs at least one response")
    return {"toolResponse": {"functionResponses": items}}


# -- server → client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupComplete:
    session_id: str | None


def _get(obj: Mapping[str, Any], camel: str) -> Any:
    """A field in lowerCamelCase or snake_case (``null`` is absent)."""
    value = obj.get(camel)
    if value is None:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
        value = obj.get(snake)
    return value


def parse_server_message(payload: Json) -> tuple[SetupComplete | None, list[LiveMessage]]:
    """Split one server message into typed events, in the order a listener needs them.

    Everything a turn carries comes before its ``TurnComplete``, so a loop that stops at
    ``TurnComplete`` misses nothing delivered in the same frame (a ``toolCall`` sent with
    ``turnComplete``, as 3P report from the hosted service).
    """
    setup = _get(payload, "setupComplete")
    setup_complete = SetupComplete(_get(setup, "sessionId")) if isinstance(setup, Mapping) else None
    events: list[LiveMessage] = []
    content = _get(payload, "serverContent") or {}
    events.extend(_content_events(content))
    if (cancellation := _get(payload, "toolCallCancellation")) is not None:
        events.append(ToolCallCancellation([str(i) for i in _get(cancellation, "ids") or []]))
    if (tool_call := _get(payload, "toolCall")) is not None:
        events.append(ToolCall([_function_call(c) for c in _get(tool_call, "functionCalls") or []]))
    if (go_away := _get(payload, "goAway")) is not None:
        events.append(GoAway(parse_duration(_get(go_away, "timeLeft"))))
    if (update := _get(payload, "sessionResumptionUpdate")) is not None:
        events.append(
            SessionResumptionUpdate(
                new_handle=_get(update, "newHandle") or "",
                resumable=bool(_get(update, "resumable")),
            )
        )
    if _get(content, "turnComplete"):
        events.append(
            TurnComplete(
                usage=_usage(_get(payload, "usageMetadata")),
                reason=_get(content, "turnCompleteReason"),
                waiting_for_input=bool(_get(content, "waitingForInput")),
            )
        )
    return setup_complete, events


def _content_events(content: Mapping[str, Any]) -> list[LiveMessage]:
    events: list[LiveMessage] = []
    if (heard := _transcription("input", _get(content, "inputTranscription"))) is not None:
        events.append(heard)
    model_turn = _get(content, "modelTurn")
    if model_turn is not None:
        parts = [_part(part) for part in _get(model_turn, "parts") or []]
        if parts:
            events.append(Content(parts))
    if (spoken := _transcription("output", _get(content, "outputTranscription"))) is not None:
        events.append(spoken)
    if _get(content, "interrupted"):
        events.append(Interrupted())
    if _get(content, "generationComplete"):
        events.append(GenerationComplete())
    return events


def _transcription(source: str, value: Any) -> Transcription | None:
    if not isinstance(value, Mapping):
        return None
    text, finished = _get(value, "text") or "", bool(_get(value, "finished"))
    if not text and not finished:
        return None
    return Transcription(source, text, finished)  # type: ignore[arg-type]


def _part(part: Mapping[str, Any]) -> Part:
    inline = _get(part, "inlineData")
    media = None
    if isinstance(inline, Mapping):
        media = Blob(decode_lenient(_get(inline, "data") or ""), _get(inline, "mimeType") or "")
    return Part(text=_get(part, "text"), inline_data=media, thought=bool(_get(part, "thought")))


def _function_call(call: Mapping[str, Any]) -> FunctionCallEvent:
    return FunctionCallEvent(
        id=str(_get(call, "id") or ""), name=_get(call, "name") or "", args=_get(call, "args") or {}
    )


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, Mapping):
        return None
    response = _get(value, "responseTokenCount")
    if response is None:
        response = _get(value, "candidatesTokenCount")  # Vertex's name for it
    return Usage(
        prompt_token_count=int(_get(value, "promptTokenCount") or 0),
        response_token_count=int(response or 0),
        total_token_count=int(_get(value, "totalTokenCount") or 0),
        raw=dict(value),
    )


def parse_duration(value: Any) -> float:
    """A proto3 JSON Duration (``"50s"``, ``"59.5s"``) in seconds; 0 if unreadable."""
    try:
        return float(str(value).strip().removesuffix("s"))
    except ValueError:
        log.debug("unreadable duration %r", value)
        return 0.0
