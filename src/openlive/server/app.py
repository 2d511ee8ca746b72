"""The ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from .connection import Connection
from .runtime import ProgressHook, Runtime

log = logging.getLogger("openlive.server")


def create_app(runtime: Runtime, *, progress: ProgressHook | None = None) -> Starlette:
    """The app for ``runtime``. Models load in the background at start; until they are loaded
    ``/healthz`` answers 503 and new sessions wait for them."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loading = asyncio.create_task(runtime.load(progress))
        loading.add_done_callback(_log_load_failure)
        try:
            yield
        finally:
            loading.cancel()
            with contextlib.suppress(BaseException):
                await loading
            await runtime.aclose()

    async def healthz(request: Request) -> JSONResponse:
        if runtime.ready.is_set():
            return JSONResponse({"status": "ok", "llm": runtime.llm.description})
        status = "failed" if runtime.failed else "loading"
        return JSONResponse({"status": status}, status_code=503)

    async def live(websocket: WebSocket) -> None:
        await Connection(websocket, runtime).run()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            WebSocketRoute("/{path:path}", live),
        ],
        lifespan=lifespan,
    )


def _log_load_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("model loading failed: %s", task.exception())
