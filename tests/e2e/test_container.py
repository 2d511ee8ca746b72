"""The Dockerfile, built and run with a real container runtime (Debian's podman): the image starts
with no network at all, so every model is baked in, and answers a turn.

``./run test`` installs podman where apt-get can (deploy/container-image builds the base image
from Debian's packages where Docker Hub cannot be reached). Without a runtime that can run
containers here, the test is skipped and says why."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "container-image"

# One text turn over the wire protocol, from inside the container (it has no network to reach).
TURN = """
import asyncio, json, websockets
PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
async def main():
    async with websockets.connect("ws://127.0.0.1:8765" + PATH) as ws:
        config = {"responseModalities": ["TEXT"], "maxOutputTokens": 20, "temperature": 0}
        await ws.send(json.dumps({"setup": {"model": "models/x", "generationConfig": config}}))
        assert "setupComplete" in json.loads(await ws.recv())
        await ws.send(json.dumps({"realtimeInput": {"text": "What is the capital of France?"}}))
        reply = ""
        while True:
            content = json.loads(await ws.recv()).get("serverContent", {})
            for part in content.get("modelTurn", {}).get("parts", []):
                reply += part.get("text", "")
            if content.get("turnComplete"):
                break
        print(reply)
asyncio.run(main())
"""


def container_image(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """deploy/container-image with ``args``, its output captured, whatever its exit status."""
    command = [BUILD.as_posix(), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def podman(*args: str, timeout: float = 120) -> str:
    """podman's output; a failure fails the test with what it printed."""
    done = container_image("podman", *args, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args[:2])}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("podman") is None:
        pytest.skip("no container runtime: podman is not installed (./run test installs it)")
    probe = container_image("probe")
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run containers here: {probe.stderr.strip()[-300:]}")
    tag = "localhost/openlive:test"
    build = container_image("build", tag, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return tag


@pytest.fixture
def container(image: str) -> Iterator[str]:
    name = f"openlive-test-{uuid.uuid4().hex[:8]}"
    podman("run", "-d", "--name", name, "--network", "none", image)
    try:
        yield name
    finally:
        container_image("podman", "rm", "-f", "-t", "5", name)


def logs(container: str) -> str:
    done = container_image("podman", "logs", container)
    return (done.stdout + done.stderr)[-3000:]


def wait_for_health(container: str, within_s: float) -> str:
    """/healthz from inside the container, once it answers 200; fails early if it exited."""
    check = (
        "import urllib.error as e, urllib.request as r\n"
        "try: print(r.urlopen('http://127.0.0.1:8765/healthz').read().decode())\n"
        "except e.HTTPError as error: print(error.read().decode()); raise SystemExit(1)"
    )
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        state = podman("inspect", "-f", "{{.State.Status}}", container).strip()
        assert state == "running", f"the container {state}: {logs(container)}"
        probe = container_image("podman", "exec", container, "python3", "-c", check, timeout=30)
        if probe.returncode == 0:
            return probe.stdout
        assert '"failed"' not in probe.stdout, f"the models did not load: {logs(container)}"
        time.sleep(2)
    raise AssertionError(f"not healthy in {within_s:g} s: {logs(container)}")


def test_the_image_serves_offline_with_its_models_baked_in(container: str) -> None:
    health = wait_for_health(container, within_s=300)
    assert '"status":"ok"' in health.replace(" ", ""), health
    # The whole voice pipeline loaded from the image: nothing could be downloaded.
    for engine in ("whisper", "kokoro"):
        assert engine in health.lower(), health
    reply = podman(
        "exec", container, "/opt/openlive/.venv/bin/python", "-c", TURN, timeout=120
    ).strip()
    assert "paris" in reply.lower(), reply
