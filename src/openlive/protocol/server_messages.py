"""Server → client messages (``BidiGenerateContentServerMessage``), docs/protocol.md §5.

Encoded camelCase only, ``None`` fields left out. Only top-level keys every client release knows are
ever produced (an unknown one crashes google-genai's ``receive()``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ServerModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
    )


class InlineData(ServerModel):
    mime_type: str
    data: str  # standard base64, already encoded


class ServerPart(ServerModel):
    text: str | None = None
    inline_data: InlineData | None = None
    thought: bool | None = None


class ModelTurn(ServerModel):
    role: str = "model"
    parts: list[ServerPart]


class Transcription(ServerModel):
    text: str | None = None
    finished: bool | None = None


class ModalityTokenCount(ServerModel):
    modality: str
    token_count: int


class UsageMetadata(ServerModel):
    prompt_token_count: int | None = None
    cached_content_token_count: int | None = None
    response_token_count: int | None = None
    candidates_token_count: int | None = None  # Vertex's name for the same number
    tool_use_prompt_token_count: int | None = None
    thoughts_token_count: int | None = None
    total_token_count: int | None = None
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    response_tokens_details: list[ModalityTokenCount] | None = None
    candidates_tokens_details: list[ModalityTokenCount] | None = None


class ServerContent(ServerModel):
    model_turn: ModelTurn | None = None
    generation_complete: bool | None = None
    turn_complete: bool | None = None
    interrupted: bool | None = None
    input_transcription: Transcription | None = None
    output_transcription: Transcription | None = None
    grounding_metadata: dict[str, Any] | None = None
    turn_complete_reason: str | None = None
    waiting_for_input: bool | None = None


class SetupComplete(ServerModel):
    session_id: str | None = None


class FunctionCallOut(ServerModel):
    id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolCall(ServerModel):
    function_calls: list[FunctionCallOut]


class ToolCallCancellation(ServerModel):
    ids: list[str]


class GoAway(ServerModel):
    time_left: str  # proto Duration, e.g. "50s"


class SessionResumptionUpdate(ServerModel):
    new_handle: str = ""
    resumable: bool = False


class ServerMessage(ServerModel):
    setup_complete: SetupComplete | None = None
    server_content: ServerContent | None = None
    tool_call: ToolCall | None = None
    tool_call_cancellation: ToolCallCancellation | None = None
    go_away: GoAway | None = None
    session_resumption_update: SessionResumptionUpdate | None = None
    usage_metadata: UsageMetadata | None = None

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def duration(seconds: float) -> str:
    """A proto3 JSON Duration: ``"50s"``, ``"59.5s"``."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"
