"""``openlive serve``: load models with a progress display, then announce the address."""

from __future__ import annotations

import asyncio

import uvicorn
from rich.console import Console

from ..engines.llm import LLMError
from ..engines.llm.model_source import PLACEHOLDER_ADVICE
from ..settings import Settings
from .app import create_app
from .runtime import Runtime
from .speech_loader import SpeechUnavailable
from .tls import ensure_certificate

# Our own size check gives a clear 1007; the transport's limit only stops absurd frames.
TRANSPORT_MAX_MESSAGE_FACTOR = 4


async def run_server(settings: Settings, console: Console) -> None:
    try:
        runtime = Runtime(settings)
    except (LLMError, SpeechUnavailable) as error:
        console.print(f"[red]could not start:[/] {error}")
        raise SystemExit(1) from None
    status = console.status("starting", spinner="dots")
    status.start()

    def progress(stage: str, message: str) -> None:
        if message.startswith("ready"):
            console.print(f"[green]✓[/] {stage}: {message}")
        else:
            status.update(f"{stage}: {message}")

    ssl_options: dict[str, str] = {}
    scheme = "ws"
    if settings.tls:
        files = ensure_certificate(settings.cert_dir)
        ssl_options = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        scheme = "wss"

    config = uvicorn.Config(
        create_app(runtime, progress=progress),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes * TRANSPORT_MAX_MESSAGE_FACTOR,
        log_level="warning",
        lifespan="on",
        **ssl_options,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    ready = asyncio.create_task(runtime.ready.wait())
    await asyncio.wait({serving, ready}, return_when=asyncio.FIRST_COMPLETED)
    status.stop()
    if ready.done() and not serving.done():
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        http = "https" if settings.tls else "http"
        address = f"{settings.host}:{settings.port}"
        console.print(
            f"[bold green]openlive ready[/] on {scheme}://{address} "
            f"(health: {http}://{address}/healthz)"
        )
        console.print(f"LLM: {runtime.llm.description}")
        if runtime.llm.is_placeholder:
            console.print(f"[yellow]{PLACEHOLDER_ADVICE}[/]")
        if settings.tls:
            console.print("google-genai (Python) trusts this server with:")
            console.print(f"  export SSL_CERT_FILE={files.bundle}", soft_wrap=True, highlight=False)
    else:
        ready.cancel()
        if runtime.failed is not None:
            console.print(f"[red]could not start:[/] {runtime.failed}")
            server.should_exit = True
            await serving
            raise SystemExit(1)
    await serving
