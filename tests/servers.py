"""Start real ``openlive serve`` processes for end-to-end tests, exactly as a user would."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 120
# What asyncio logs for a task or callback whose failure nobody handled: always a bug of ours,
# whatever the test did (clients leaving mid-reply, sessions cancelled), so no server may log it.
# "Task exception ..." and "_GatheringFuture exception ...": both end in "was never retrieved".
UNHANDLED_IN_LOOP = ("exception was never retrieved", "Exception in callback")
# The chat model of a test server. Conversation, voice and tool tests run the server's default
# model, as users do (DEFAULT_MODEL); tests of structure (errors, sessions, clients, routing)
# pin the tiny packaged one, which answers in milliseconds, to keep the suite short.
DEFAULT_MODEL = None
STRUCTURAL_MODEL = "embedded:smollm2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    port: int
    tls: bool
    workdir: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    @property
    def cert_bundle(self) -> Path:
        return self.workdir / "certs" / "bundle.pem"

    @property
    def ca_cert(self) -> Path:
        return self.workdir / "certs" / "ca.pem"

    @property
    def trace_file(self) -> Path:
        return self.workdir / "llm-requests.jsonl"

    @property
    def log_file(self) -> Path:
        return self.workdir / "server.log"

    def llm_requests(self) -> list[dict]:
        if not self.trace_file.exists():
            return []
        return [json.loads(line) for line in self.trace_file.read_text().splitlines() if line]

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        verify: ssl.SSLContext | bool = False
        while time.monotonic() < deadline:
            if self.tls and verify is False and self.ca_cert.exists():
                verify = ssl.create_default_context(cafile=self.ca_cert)
            if self.process.poll() is not None:
                raise RuntimeError(f"openlive serve exited early:\n{self.log()}")
            try:
                if (
                    httpx.get(f"{self.http_url}/healthz", verify=verify, timeout=2).status_code
                    == 200
                ):
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"openlive serve not ready:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.assert_loop_errors_handled()

    def assert_loop_errors_handled(self) -> None:
        """The log holds none of asyncio's reports of an unhandled task or callback failure."""
        log = self.log()
        for marker in UNHANDLED_IN_LOOP:
            if marker in log:
                at = log.index(marker)
                raise AssertionError(f"server log has {marker!r}:\n{log[at : at + 2000]}")


def start_server(
    workdir: Path,
    *args: str,
    tls: bool = True,
    speech: bool = False,
    env: dict[str, str] | None = None,
    wait: bool = True,
    vision: bool = False,
    llm: str | None = STRUCTURAL_MODEL,
) -> ServerProcess:
    """A server process; text-only unless ``speech`` (loading the voice models costs seconds),
    camera frames ignored unless ``vision``; ``llm`` None serves the default model."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "openlive",
        "serve",
        "--port",
        str(port),
        "--cert-dir",
        str(workdir / "certs"),
        "--tls" if tls else "--no-tls",
        *args,
    ]
    full_env = {
        **os.environ,
        "OPENLIVE_LLM_TRACE_FILE": str(workdir / "llm-requests.jsonl"),
        "OPENLIVE_LLM_THREADS": "1",
        "OPENLIVE_LLM_PARALLEL": "2",
        # Refusing new sessions while the LLM is behind is tested on purpose (test_overload.py);
        # elsewhere the suite's own load on a small CI machine would refuse its next session.
        "OPENLIVE_LLM_QUEUE_TARGET_MS": "0",
        "OPENLIVE_SPEECH": "1" if speech else "0",
        "OPENLIVE_VISION": "1" if vision else "0",
        # Session state (SQLite) per server unless a test shares it on purpose.
        "OPENLIVE_DATA_DIR": str(workdir / "data"),
        **({"OPENLIVE_LLM": llm} if llm is not None else {}),
        **(env or {}),
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=workdir
    )
    server = ServerProcess(port=port, tls=tls, workdir=workdir, process=process, env=full_env)
    if wait:
        server.wait_ready()
    return server
