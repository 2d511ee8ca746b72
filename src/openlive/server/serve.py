"""``openlive serve``: load models with a progress display, then announce the address."""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

import uvicorn
from rich.console import Console

from ..engines.llm import LLMError
from ..engines.llm.model_source import PLACEHOLDER_ADVICE
from ..settings import Settings
from .app import create_app
from .header_timeout import with_header_timeout
from .runtime import Runtime
from .speech_loader import SpeechUnavailable
from .telemetry import TelemetryUnavailable
from .tls import CertificateFiles, TLSConfigError, ensure_certificate, operator_certificate
from .websocket_protocol import HardenedWebSocketProtocol

# Our own size check gives a clear 1007; the transport's limit only stops absurd frames.
TRANSPORT_MAX_MESSAGE_FACTOR = 4
SHUTDOWN_SLACK_S = 2.0  # after the drain grace: close frames flushed, sessions closed


class DrainingServer(uvicorn.Server):
    """SIGTERM drains: goAway to every session, a grace period, then exit. A second signal (or
    Ctrl-C) exits at once."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_started = False

    async def serve(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and not self._drain_started and self._loop is not None:
            self._drain_started = True
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._drain()))
            return
        super().handle_exit(sig, frame)

    async def _drain(self) -> None:
        await self.runtime.drain()
        await asyncio.sleep(0.5)  # let the writers flush their close frames
        self.should_exit = True


def certificate(settings: Settings) -> CertificateFiles:
    if settings.tls_cert is not None and settings.tls_key is not None:
        return operator_certificate(settings.tls_cert, settings.tls_key)
    return ensure_certificate(settings.cert_dir, settings.tls_hosts)


async def run_server(settings: Settings, console: Console) -> None:
    files: CertificateFiles | None = None
    if settings.tls:
        try:  # before the models load: a bad certificate option should fail at once
            files = certificate(settings)
        except TLSConfigError as error:
            console.print(f"[red]could not start:[/] {error}")
            raise SystemExit(1) from None
    try:
        runtime = Runtime(settings)
    except (LLMError, SpeechUnavailable, TelemetryUnavailable) as error:
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
    if files is not None:
        ssl_options = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        scheme = "wss"

    config = uvicorn.Config(
        create_app(runtime, progress=progress),
        host=settings.host,
        port=settings.port,
        ws=HardenedWebSocketProtocol,
        ws_max_size=settings.max_message_bytes * TRANSPORT_MAX_MESSAGE_FACTOR,
        http=with_header_timeout(settings.header_timeout_s),
        limit_concurrency=settings.max_connections or None,
        # Shutdown ends within its grace period even if some connection will not close.
        timeout_graceful_shutdown=settings.drain_grace_s + SHUTDOWN_SLACK_S,
        log_level="warning",
        lifespan="on",
        **ssl_options,
    )
    server = DrainingServer(config, runtime)
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
        console.print(f"demo page: {http}://{address}/")
        style = "[bold red]" if "FALLBACK" in runtime.llm.description else ""
        console.print(f"{style}LLM: {runtime.llm.description}", highlight=False)
        if runtime.voice_llm is not None:
            console.print(f"LLM for voice: {runtime.voice_llm.description}", highlight=False)
        console.print(f"Camera frames: {runtime.vision_description}", highlight=False)
        console.print(f"Tools: {runtime.tools_description}", highlight=False)
        if runtime.llm.is_placeholder:
            console.print(f"[yellow]{PLACEHOLDER_ADVICE}[/]")
        if files is not None:
            console.print(f"TLS certificate for: {', '.join(files.names)}", highlight=False)
        if files is not None and files.bundle is not None:
            console.print("google-genai (Python) trusts this server with:")
            console.print(f"  export SSL_CERT_FILE={files.bundle}", soft_wrap=True, highlight=False)
            console.print(f"devices and browsers: install the CA {files.ca_cert}", highlight=False)
    else:
        ready.cancel()
        if runtime.failed is not None:
            console.print(f"[red]could not start:[/] {runtime.failed}")
            server.should_exit = True
            await serving
            raise SystemExit(1)
    await serving
