"""The embedded runtime: llama.cpp's server, in-process through xllamacpp.

Generation runs on worker threads (the runtime releases the GIL), and tokens cross back to the
event loop through ``call_soon_threadsafe``. Returning ``True`` from the stream callback stops a
generation, which is how cancellation reaches the C++ side.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .base import ChatDelta, ChatRequest, LLMError, deltas_from_chunk
from .model_source import GGUFSource

_END = object()


class EmbeddedLLM:
    def __init__(self, source: GGUFSource, *, threads: int, context: int, parallel: int) -> None:
        self.source = source
        self.description = f"{source.label} on the embedded llama.cpp runtime"
        self.is_placeholder = source.is_placeholder
        self._threads = threads
        self._context = context
        self._parallel = parallel
        self._server: Any = None
        self._executor = ThreadPoolExecutor(max_workers=parallel * 2, thread_name_prefix="llm")

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
        params.cpuparams_batch.n_threads = self._threads
        params.cache_prompt = True
        params.warmup = True
        params.verbosity = -1
        # The runtime also listens on a loopback HTTP port; lock it with a key nobody knows.
        params.api_keys = [secrets.token_urlsafe(24)]
        try:
            return xllamacpp.Server(params)
        except Exception as error:  # the binding raises plain RuntimeError/ValueError
            raise LLMError(f"could not load {self.source.path}: {error}") from error

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
                result = self._server.handle_chat_completions(request.to_openai(), on_chunk)
                if isinstance(result, dict) and result.get("error"):
                    loop.call_soon_threadsafe(queue.put_nowait, result)
            except Exception as error:
                loop.call_soon_threadsafe(queue.put_nowait, LLMError(str(error)))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        worker = loop.run_in_executor(self._executor, run)
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, Exception):
                    raise item
                if item.get("error"):
                    raise LLMError(_error_message(item["error"]))
                for delta in deltas_from_chunk(item):
                    yield delta
        finally:
            cancelled.set()
            # Do not wait for the worker: it stops at its next token, and the caller should not.
            worker.add_done_callback(lambda future: future.exception())

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._server = None


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)
