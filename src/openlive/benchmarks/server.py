"""Start ``openlive serve --tls`` for a benchmark, and wait until it is healthy."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_health(base_url: str, cafile: Path, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(cafile))
    request = urllib.request.Request(f"{base_url}/healthz")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:  # 503 while models load
        with contextlib.suppress(ValueError):
            return error.code, json.loads(error.read() or b"{}")
        return error.code, {}


@contextlib.contextmanager
def own_server(
    extra_args: list[str],
    startup_timeout: float,
    console: Console,
    openlive: list[str] | None = None,
) -> Iterator[tuple[str, Path, dict[str, Any], Path]]:
    """Start ``openlive serve --tls`` on a free port; yield (base URL, CA bundle, health, log).

    ``openlive`` is the command to run, this package's own by default; another checkout's
    ``.venv/bin/openlive`` benchmarks that version (the voice bench's ``--baseline``)."""
    workdir = Path(tempfile.mkdtemp(prefix="openlive-bench-"))
    cert_dir = workdir / "certs"
    log_path = workdir / "server.log"
    port = free_port()
    base_url = f"https://127.0.0.1:{port}"
    command = [
        *(openlive or [sys.executable, "-m", "openlive"]),
        "serve",
        "--tls",
        "--port",
        str(port),
        "--cert-dir",
        str(cert_dir),
        *extra_args,
    ]
    console.print(f"[dim]starting: {' '.join(command)}[/]")
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        health = _wait_healthy(process, base_url, cert_dir / "ca.pem", startup_timeout, log_path)
        yield base_url, cert_dir / "bundle.pem", health, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_healthy(
    process: subprocess.Popen[bytes], base_url: str, ca: Path, timeout: float, log_path: Path
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log_path)}")
        if ca.exists():
            try:
                status, body = get_health(base_url, ca, timeout=2.0)
                if status == 200:
                    return body
                last_error = f"/healthz answered {status} {body}"
            except (OSError, ssl.SSLError) as error:  # not listening yet, or ca.pem half written
                last_error = str(error)
        time.sleep(0.2)
    raise RuntimeError(
        f"the server was not healthy after {timeout:.0f} s ({last_error}):\n{_tail(log_path)}"
    )


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""
