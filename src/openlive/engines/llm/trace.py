"""Record every request an engine receives, as JSON lines: for debugging prompts and for tests that
check what a conversation sends to the model (history, system instruction, parameters)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from .base import ChatDelta, ChatRequest, LLMEngine


class TracingLLM:
    def __init__(self, inner: LLMEngine, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return self.inner.description

    @property
    def is_placeholder(self) -> bool:
        return self.inner.is_placeholder

    async def load(self) -> None:
        await self.inner.load()

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        line = json.dumps(dataclasses.asdict(request), ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
        return self.inner.stream(request)

    @property
    def slots(self) -> object | None:
        """The inner runtime's generation slots, when it has them (engines/llm/slots.py)."""
        return getattr(self.inner, "slots", None)

    def next_token_scorer(self) -> object | None:
        """The inner runtime's next-token probabilities (the words' end-of-turn signal), when it
        has them; not traced: they are no conversation request."""
        make = getattr(self.inner, "next_token_scorer", None)
        return make() if callable(make) else None

    async def aclose(self) -> None:
        await self.inner.aclose()
