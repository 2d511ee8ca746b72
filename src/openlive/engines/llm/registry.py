"""Map the ``llm`` setting to an engine: ``embedded[:<gguf spec>]`` or ``openai:<base_url>``."""

from __future__ import annotations

import math

from ...settings import Settings
from .base import LLMEngine, LLMError
from .embedded import EmbeddedLLM
from .model_source import GGUFSource, ModelNotFound, resolve_gguf
from .openai_compat import OpenAICompatibleLLM
from .slots import LLMSlots
from .trace import TracingLLM


def create_llm_engine(settings: Settings) -> LLMEngine:
    engine = _create(settings)
    if settings.llm_trace_file is not None:
        return TracingLLM(engine, settings.llm_trace_file)
    return engine


def embedded_llm(source: GGUFSource, settings: Settings) -> EmbeddedLLM:
    """A GGUF on the embedded runtime, with the settings' threads, context and slots."""
    target_s = settings.llm_queue_target_ms / 1000 if settings.llm_queue_target_ms else math.inf
    return EmbeddedLLM(
        source,
        threads=settings.embedded_llm_threads(),
        prefill_threads=settings.embedded_llm_prefill_threads(),
        context=settings.llm_context,
        parallel=settings.llm_parallel,
        slots=LLMSlots(settings.llm_parallel, target_s=target_s),
        nice=settings.llm_nice,
    )


def _create(settings: Settings) -> LLMEngine:
    kind, _, argument = settings.llm.partition(":")
    if kind == "openai":
        if not argument:
            raise LLMError("openai: needs a base URL, e.g. openai:http://127.0.0.1:11434/v1")
        return OpenAICompatibleLLM(
            argument,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
        )
    if kind == "embedded":
        try:
            source = resolve_gguf(argument, settings.models_dir)
        except ModelNotFound as error:
            raise LLMError(str(error)) from error
        return embedded_llm(source, settings)
    raise LLMError(f"unknown LLM engine {settings.llm!r}; use embedded[:<gguf>] or openai:<url>")
