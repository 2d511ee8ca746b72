"""The LLM engine interface: an OpenAI chat-completions request in, a stream of text deltas out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class LLMError(Exception):
    """The engine failed (server down, bad model, broken stream)."""


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


def deltas_from_chunk(chunk: dict[str, Any]) -> list[ChatDelta]:
    """The text, finish reason and usage in one ``chat.completion.chunk``."""
    deltas: list[ChatDelta] = []
    for choice in chunk.get("choices") or []:
        text = (choice.get("delta") or {}).get("content") or ""
        finish = choice.get("finish_reason")
        if text or finish:
            deltas.append(ChatDelta(text=text, finish_reason=finish))
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
