"""The embedded runtime: llama.cpp's server, in-process through xllamacpp.

Generation runs on worker threads (the runtime releases the GIL), and tokens cross back to the
event loop through ``call_soon_threadsafe``. Returning ``True`` from the stream callback stops a
generation, which is how cancellation reaches the C++ side.

A JSON-schema ``response_format`` is handed to llama.cpp's llguidance grammar with compact
separators: the stock conversion lets the model pretty-print, which costs a token per line break
and indent and (measured on the packaged model) made its tool calls worse.

Every thread of the runtime runs ``nice`` levels below the rest of the server (engines/priority.py):
the runtime is built on a thread of its own executor, lowered first, and the runtime's own threads
inherit that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..priority import lower_this_thread
from .base import ChatDelta, ChatRequest, ContextOverflowError, LLMError, deltas_from_chunk
from .model_source import GGUFSource
from .next_token import NextTokenScorer
from .slots import LLMSlots

log = logging.getLogger(__name__)

_END = object()


class EmbeddedLLM:
    def __init__(
        self,
        source: GGUFSource,
        *,
        threads: int,
        context: int,
        parallel: int,
        prefill_threads: int | None = None,
        slots: LLMSlots | None = None,
        nice: int = 0,
    ) -> None:
        self.source = source
        self._threads = threads
        self._prefill_threads = prefill_threads or threads
        self.description = (
            f"{source.label} on the embedded llama.cpp runtime "
            f"({threads} decode / {self._prefill_threads} prefill threads)"
        )
        if source.fallback:
            self.description += " (FALLBACK: the default model is missing or damaged)"
        self.is_placeholder = source.is_placeholder
        self._context = context
        self._parallel = parallel
        self.slots = slots or LLMSlots(parallel)
        self._server: Any = None
        self._llguidance = False
        self._api_key = secrets.token_urlsafe(24)
        self._scorer: NextTokenScorer | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=parallel * 2,
            thread_name_prefix="llm",
            initializer=lower_this_thread,
            initargs=(nice,),
        )

    async def load(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.run_in_executor(self._executor, self._create_server)

    def _create_server(self) -> Any:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.source.path)
        params.n_parallel = self._parallel
        params.n_ctx = self._context * self._parallel  # llama.cpp splits n_ctx across the slots
        params.cpuparams.n_threads = self._threads
        params.cpuparams_batch.n_threads = self._prefill_threads
        params.cache_prompt = True
        params.warmup = True
        params.verbosity = -1
        # The runtime also listens on a loopback HTTP port; lock it with a key nobody knows.
        params.api_keys = [self._api_key]
        try:
            server = xllamacpp.Server(params)
        except Exception as error:  # the binding raises plain RuntimeError/ValueError
            raise LLMError(f"could not load {self.source.path}: {error}") from error
        self._llguidance = xllamacpp.json_schema_to_grammar("{}").startswith("%llguidance")
        return server

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        if self._server is None:
            raise LLMError("the embedded LLM is not loaded")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return cancelled.is_set()

        def run() -> None:
            try:
                body = _compact_json_output(request.to_openai(), self._llguidance)
                result = self._server.handle_chat_completions(body, on_chunk)
                if isinstance(result, dict) and result.get("error"):
                    loop.call_soon_threadsafe(queue.put_nowait, result)
            except Exception as error:
                loop.call_soon_threadsafe(queue.put_nowait, LLMError(str(error)))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        await self.slots.acquire()
        try:
            worker = loop.run_in_executor(self._executor, run)
        except BaseException:
            self.slots.release()
            raise
        # The slot is free once the runtime has stopped, not when the caller stops listening: a
        # cancelled prefill runs on to its first token, and the next request would queue there.
        worker.add_done_callback(lambda _: self.slots.release())
        try:
            while (item := await queue.get()) is not _END:
                self.slots.tick()
                if isinstance(item, Exception):
                    raise item
                if item.get("error"):
                    raise _llm_error(item["error"])
                for delta in deltas_from_chunk(item):
                    yield delta
        finally:
            cancelled.set()
            # Do not wait for the worker: it stops at its next token, and the caller should not.
            worker.add_done_callback(_forget_worker)

    def next_token_scorer(self) -> NextTokenScorer | None:
        """Next-token probabilities on this runtime (the text end-of-turn signal); None before
        ``load``."""
        if self._server is None:
            return None
        if self._scorer is None:
            self._scorer = NextTokenScorer(
                self._server, self._server.listening_address, self._api_key
            )
        return self._scorer

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._scorer is not None:
            self._scorer.close()
            self._scorer = None
        self._server = None


def _forget_worker(future: asyncio.Future[None]) -> None:
    """Done-callback of a generation nobody waits for. ``run`` reports its own errors through
    the queue, so what is left is a worker cancelled before it started (the runtime shutting
    down): retrieve the outcome so asyncio does not log it, and say so only at debug level."""
    if future.cancelled():
        log.debug("an LLM generation was cancelled before it started")
    elif (error := future.exception()) is not None:
        log.debug("an abandoned LLM generation failed: %s", error)


def _compact_json_output(body: dict[str, Any], llguidance: bool) -> dict[str, Any]:
    """A JSON-schema ``response_format`` as an llguidance grammar that allows no free whitespace:
    ``{"key": "value", "n": 1}``, nothing else."""
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not llguidance or response_format.get("type") != "json_schema" or schema is None:
        return body
    compact = {
        "x-guidance": {"whitespace_flexible": False, "key_separator": ": ", "item_separator": ", "},
        **schema,
    }
    body = {key: value for key, value in body.items() if key != "response_format"}
    body["grammar"] = "%llguidance {}\nstart: %json " + json.dumps(compact)
    return body


def _llm_error(error: Any) -> LLMError:
    """llama.cpp's error object as an exception; a prompt past the context is the client's."""
    if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
        return ContextOverflowError(_error_message(error))
    return LLMError(_error_message(error))


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)
