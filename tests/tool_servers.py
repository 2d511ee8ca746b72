"""Small real HTTP servers on loopback for the function-calling tests: a SearxNG-compatible search
endpoint, and a scripted OpenAI-compatible chat server that answers with streamed ``tool_calls``
(the packaged model's chat template knows no tools, so a native tool call must be scripted)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from .servers import free_port


@dataclass
class LoopbackServer:
    url: str
    requests: list[Any] = field(default_factory=list)


@contextmanager
def serve_app(app: Starlette, server: LoopbackServer, port: int) -> Iterator[LoopbackServer]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if time.monotonic() > deadline:
            raise TimeoutError("loopback server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        runner.should_exit = True
        thread.join(timeout=5)


SEARCH_RESULTS = [
    {
        "title": "Chess Olympiad 2026 - final standings",
        "url": "https://chess.example.org/olympiad-2026",
        "content": "The open section was won by the team of Zephyria on tie-break.",
    },
    {
        "title": "Olympiad report",
        "url": "https://news.example.com/olympiad",
        "content": "Zephyria took gold after the last round.",
    },
]


@contextmanager
def searxng_server() -> Iterator[LoopbackServer]:
    """``GET /search?q=...&format=json`` → SearxNG's JSON; every query is recorded."""
    port = free_port()
    server = LoopbackServer(f"http://127.0.0.1:{port}")

    async def search(request: Request) -> JSONResponse:
        server.requests.append(dict(request.query_params))
        query = request.query_params.get("q", "")
        return JSONResponse({"query": query, "number_of_results": 2, "results": SEARCH_RESULTS})

    app = Starlette(routes=[Route("/search", search)])
    with serve_app(app, server, port):
        yield server


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def tool_call_stream(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """SSE chunks as vLLM/llama.cpp stream tool calls: id and name first, arguments in pieces."""
    chunks = [_chunk({"role": "assistant", "content": None})]
    for index, (name, args) in enumerate(calls):
        arguments = json.dumps(args)
        head = {"index": index, "id": f"srv-{index}", "type": "function"}
        chunks.append(_chunk({"tool_calls": [{**head, "function": {"name": name}}]}))
        for start in range(0, len(arguments), 5):
            piece = {"index": index, "function": {"arguments": arguments[start : start + 5]}}
            chunks.append(_chunk({"tool_calls": [piece]}))
    chunks.append(_chunk({}, "tool_calls"))
    return chunks


def text_stream(text: str) -> list[str]:
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": word + " "}) for word in text.split()]
    chunks.append(_chunk({}, "stop"))
    usage = {"prompt_tokens": 42, "completion_tokens": len(text.split()), "total_tokens": 50}
    chunks.append(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n")
    return chunks


@contextmanager
def scripted_openai_server(
    script: Callable[[dict[str, Any]], list[str]],
) -> Iterator[LoopbackServer]:
    """An OpenAI-compatible chat server whose streamed answer ``script(request body)`` decides;
    every request body is recorded."""
    port = free_port()
    server = LoopbackServer(f"http://127.0.0.1:{port}/v1")

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    async def completions(request: Request) -> StreamingResponse:
        body = await request.json()
        server.requests.append(body)

        async def events() -> AsyncIterator[str]:
            for chunk in script(body):
                yield chunk
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(
        routes=[
            Route("/v1/models", models),
            Route("/v1/chat/completions", completions, methods=["POST"]),
        ]
    )
    with serve_app(app, server, port):
        yield server
