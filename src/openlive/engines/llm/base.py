"""The LLM engine interface: an OpenAI chat-completions request in, a stream of text deltas out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class LLMError(Exception):
    """The engine failed (server down, bad model, broken stream)."""


class ContextOverflowError(LLMError):
    """The request is longer than the model's context window: the client's input (one huge
    turn) is at fault, not the engine, so the session closes with 1008 rather than 1011."""


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, Any]]
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    """OpenAI function tools (``{"type": "function", "function": {...}}``), for native calling."""
    tool_choice: str | None = None  # "auto", "required" or "none"
    response_format: dict[str, Any] | None = None  # e.g. a JSON schema for constrained output

    def to_openai(self, *, model: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": self.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if model:
            body["model"] = model
        optional = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": self.stop or None,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "tools": self.tools or None,
            "tool_choice": self.tool_choice if self.tools else None,
            "response_format": self.response_format,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        """Two requests of one turn (a tool call, then the answer) count together."""
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )

    @classmethod
    def from_openai(cls, usage: dict[str, Any]) -> Usage:
        details = usage.get("prompt_tokens_details") or {}
        return cls(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cached_tokens=int(details.get("cached_tokens") or 0),
        )


@dataclass(frozen=True)
class ChatDelta:
    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    """Raw streamed ``tool_calls`` pieces (``index``, ``id``, ``function.name``, a fragment of
    ``function.arguments``); engines/llm/tool_calling.py puts them together."""


def deltas_from_chunk(chunk: dict[str, Any]) -> list[ChatDelta]:
    """The text, tool-call pieces, finish reason and usage in one ``chat.completion.chunk``."""
    deltas: list[ChatDelta] = []
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        tool_calls = tuple(delta.get("tool_calls") or ())
        finish = choice.get("finish_reason")
        if text or finish or tool_calls:
            deltas.append(ChatDelta(text=text, finish_reason=finish, tool_calls=tool_calls))
    if chunk.get("usage"):
        deltas.append(ChatDelta(usage=Usage.from_openai(chunk["usage"])))
    return deltas


class LLMEngine(Protocol):
    description: str
    """What the operator should see at start-up: which model, where."""

    is_placeholder: bool

    async def load(self) -> None:
        """Load weights or check the remote server. Called once at start, before serving."""

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Stream the reply. Closing the iterator early cancels the generation."""
        ...

    async def aclose(self) -> None: ...
