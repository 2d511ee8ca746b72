"""The messages a session yields, and the values an application sends.

Server messages arrive as one JSON object that may carry several things at once (model output, a
transcription, ``turnComplete`` with usage); ``receive()`` splits them into these small typed
events, in the order a listener needs them (see ``wire.parse_server_message``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

INPUT_RATE = 16_000  # what the server expects from a microphone
OUTPUT_RATE = 24_000  # what the server speaks


@dataclass(frozen=True)
class Blob:
    """Raw media bytes with their MIME type (``audio/pcm;rate=16000``, ``image/jpeg``)."""

    data: bytes
    mime_type: str


@dataclass(frozen=True)
class FunctionDeclaration:
    """A function the model may call. ``parameters`` is a plain JSON Schema object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None
    behavior: Literal["BLOCKING", "NON_BLOCKING"] | None = None


@dataclass(frozen=True)
class FunctionCall:
    id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionResponse:
    id: str
    name: str
    response: dict[str, Any]
    scheduling: Literal["SILENT", "WHEN_IDLE", "INTERRUPT"] | None = None


# -- what receive() yields ---------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    text: str | None = None
    inline_data: Blob | None = None
    thought: bool = False


@dataclass(frozen=True)
class Content:
    """A piece of the model's turn: text and/or audio (16-bit PCM, 24 kHz mono)."""

    parts: list[Part]

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts if part.text and not part.thought)

    @property
    def audio(self) -> bytes:
        return b"".join(
            part.inline_data.data
            for part in self.parts
            if part.inline_data and part.inline_data.mime_type.startswith("audio/")
        )


@dataclass(frozen=True)
class Transcription:
    """What the user said (``source="input"``) or what the model's audio says (``"output"``).

    ``text`` is the new piece only; ``finished`` marks the end of an input utterance.
    """

    source: Literal["input", "output"]
    text: str
    finished: bool = False


@dataclass(frozen=True)
class Interrupted:
    """The user barged in: stop playing, drop whatever audio is still queued."""


@dataclass(frozen=True)
class GenerationComplete:
    """The model has produced all of its turn (audio may still be playing)."""


@dataclass(frozen=True)
class Usage:
    prompt_token_count: int = 0
    response_token_count: int = 0
    total_token_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnComplete:
    """The model's turn is over (after ``Interrupted``, or when its audio has been played)."""

    usage: Usage | None = None
    reason: str | None = None
    waiting_for_input: bool = False


@dataclass(frozen=True)
class ToolCall:
    calls: list[FunctionCall]


@dataclass(frozen=True)
class ToolCallCancellation:
    ids: list[str]


@dataclass(frozen=True)
class GoAway:
    """The server will close the connection in ``time_left`` seconds."""

    time_left: float


@dataclass(frozen=True)
class SessionResumptionUpdate:
    new_handle: str
    resumable: bool


LiveMessage = (
    Content
    | Transcription
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | ToolCall
    | ToolCallCancellation
    | GoAway
    | SessionResumptionUpdate
)
