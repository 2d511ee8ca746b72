"""Any OpenAI-compatible chat server (vLLM, llama.cpp server, Ollama, SGLang): the scale-out
path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .base import ChatDelta, ChatRequest, LLMError, deltas_from_chunk


class OpenAICompatibleLLM:
    is_placeholder = False

    def __init__(
        self, base_url: str, *, model: str = "", api_key: str = "", timeout_s: float = 120
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
        )
        self.description = f"{model or '(server default model)'} at {self.base_url}"

    async def load(self) -> None:
        """Check the server answers, and pick its first model when none was named."""
        try:
            response = await self._client.get("/models")
            response.raise_for_status()
            models = [entry.get("id") for entry in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError) as error:
            raise LLMError(f"OpenAI-compatible server at {self.base_url}: {error}") from error
        if not self.model:
            if not models:
                raise LLMError(f"{self.base_url}/models lists no model; pass --llm-model")
            self.model = models[0]
        self.description = f"{self.model} at {self.base_url} (OpenAI-compatible)"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        body = request.to_openai(model=self.model)
        try:
            async with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    detail = (await response.aread()).decode("utf-8", "replace")[:300]
                    raise LLMError(f"HTTP {response.status_code} from {self.base_url}: {detail}")
                async for line in response.aiter_lines():
                    for delta in _deltas_from_sse_line(line):
                        yield delta
        except httpx.HTTPError as error:
            raise LLMError(f"{self.base_url}: {error}") from error

    async def aclose(self) -> None:
        await self._client.aclose()


def _deltas_from_sse_line(line: str) -> list[ChatDelta]:
    if not line.startswith("data:"):
        return []
    data = line.removeprefix("data:").strip()
    if data == "[DONE]" or not data:
        return []
    try:
        chunk: dict[str, Any] = json.loads(data)
    except json.JSONDecodeError as error:
        raise LLMError(f"malformed stream chunk: {data[:80]!r}") from error
    if chunk.get("error"):
        raise LLMError(str(chunk["error"]))
    return deltas_from_chunk(chunk)
