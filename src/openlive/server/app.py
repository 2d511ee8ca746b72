"""The ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from .. import web
from ..auth.keys import key_is_valid
from ..auth.owner import fingerprint
from ..auth.tokens import TokenRequestError
from ..protocol.routing import credentials_from
from .connection import Connection
from .runtime import ProgressHook, Runtime

log = logging.getLogger("openlive.server")


def create_app(runtime: Runtime, *, progress: ProgressHook | None = None) -> Starlette:
    """The app for ``runtime``. Models load in the background at start; until they are loaded
    ``/healthz`` answers 503 and new sessions wait for them."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.loop_lag.start()
        loading = asyncio.create_task(runtime.load(progress))
        loading.add_done_callback(_log_load_failure)
        try:
            yield
        finally:
            runtime.loop_lag.stop()
            loading.cancel()
            with contextlib.suppress(BaseException):
                await loading
            await runtime.aclose()

    async def healthz(request: Request) -> JSONResponse:
        # Not ready while draining or full, so that a load balancer sends new sessions elsewhere.
        if runtime.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        if runtime.saturated:
            return JSONResponse({"status": "saturated"}, status_code=503)
        if runtime.ready.is_set():
            health = {"status": "ok", "llm": runtime.llm.description}
            if runtime.voice_llm is not None:
                health["voice_llm"] = runtime.voice_llm.description
            if runtime.speech is not None:
                # Which speech engines answer here: remote servers are named by their URL.
                health["asr"] = getattr(runtime.speech.asr, "description", "embedded Whisper")
                health["tts"] = runtime.speech.tts.description
            return JSONResponse(health)
        status = "failed" if runtime.failed else "loading"
        return JSONResponse({"status": status}, status_code=503)

    async def live(websocket: WebSocket) -> None:
        await Connection(websocket, runtime).run()

    async def metrics(request: Request) -> Response:
        return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)

    async def create_auth_token(request: Request) -> JSONResponse:
        """``client.auth_tokens.create`` (google-genai): an ephemeral token for Live sessions."""
        owner = None
        if runtime.api_keys:
            credentials = credentials_from(request.query_params, request.headers)
            if not (credentials.api_key and key_is_valid(credentials.api_key, runtime.api_keys)):
                return _google_error(
                    400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT"
                )
            owner = fingerprint(credentials.api_key)
        limit = runtime.settings.max_token_request_bytes
        body_bytes = await _read_body(request, limit)
        if body_bytes is None:
            return _google_error(
                413, f"Request payload size exceeds the limit: {limit} bytes.", "INVALID_ARGUMENT"
            )
        try:
            body = json.loads(body_bytes)
            if not isinstance(body, dict):
                raise TokenRequestError("Expected a JSON object.")
            return JSONResponse(await runtime.tokens.create(body, owner=owner))
        except (ValueError, TokenRequestError) as error:
            return _google_error(400, f"Invalid auth token request: {error}", "INVALID_ARGUMENT")

    async def session_turns(request: Request) -> JSONResponse:
        """openlive's own, outside the Gemini protocol (docs/protocol.md §12): a session's recent
        turn timings, for the demo page. Only the credential that opened the session reads them:
        a valid key that did not gets the same 404 as an unknown id, so nobody learns which
        session ids exist."""
        credentials = credentials_from(request.query_params, request.headers)
        credential = credentials.api_key or credentials.token or ""
        # A token was checked when it opened its session; the owner check below covers it.
        if (
            runtime.api_keys
            and not credentials.token
            and not key_is_valid(credential, runtime.api_keys)
        ):
            return _google_error(
                400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT"
            )
        session_id = request.path_params["session"]
        turns = runtime.turn_timings.read(session_id, credential)
        if turns is None:
            return _google_error(404, "Session not found.", "NOT_FOUND")
        return JSONResponse(
            {"sessionId": session_id, "turns": turns}, headers={"Cache-Control": "no-store"}
        )

    # HTTP routes only match HTTP requests, so the catch-all WebSocket route below still gets
    # every upgrade, whatever its path (docs/protocol.md §2.4).
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/{version}/auth_tokens", create_auth_token, methods=["POST"]),
            Route("/v1/live/sessions/{session}/turns", session_turns),
            Route("/", demo_page),
            Route("/static/{name}", demo_asset),
            WebSocketRoute("/{path:path}", live),
        ],
        lifespan=lifespan,
    )


async def demo_page(request: Request) -> Response:
    return _web_file(web.INDEX, web.MEDIA_TYPES[".html"])


async def demo_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = web.STATIC_FILES.get(name)
    if media_type is None:
        return PlainTextResponse("Not Found", status_code=404)
    return _web_file(name, media_type)


def _web_file(name: str, media_type: str) -> Response:
    # no-cache: a page left open across a server upgrade never runs stale modules.
    return FileResponse(
        web.WEB_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"}
    )


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _google_error(status: int, message: str, reason: str) -> JSONResponse:
    """Errors in Google's REST shape, which google-genai turns into ClientError."""
    return JSONResponse(
        {"error": {"code": status, "message": message, "status": reason}}, status_code=status
    )


def _log_load_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("model loading failed: %s", task.exception())
