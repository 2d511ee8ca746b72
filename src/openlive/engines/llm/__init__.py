"""Chat LLM engines. All of them speak OpenAI chat-completions dicts, embedded or remote."""

from .base import ChatDelta, ChatRequest, ContextOverflowError, LLMEngine, LLMError, Usage
from .registry import create_llm_engine

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ContextOverflowError",
    "LLMEngine",
    "LLMError",
    "Usage",
    "create_llm_engine",
]
