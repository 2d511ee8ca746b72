"""End to end with the official @google/genai (JS) SDK over plain ws:// (docs/protocol.md §8.2)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.servers import ServerProcess

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def run_script(server: ServerProcess, *args: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the @google/genai tests need Node.js")
    if not (JS_DIR / "node_modules" / "@google" / "genai").is_dir():
        pytest.fail("tests/js/node_modules is missing: run the tests with ./run test (needs npm)")
    done = subprocess.run(
        [node, str(JS_DIR / "live_text.mjs"), server.http_url, *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, f"{done.stderr}\n--- server log ---\n{server.log()[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_text_turns(plain_server: ServerProcess) -> None:
    result = run_script(plain_server)

    assert result["setupComplete"] is True
    assert result["closedEarly"] is False
    first, second = result["turns"]
    for turn in (first, second):
        assert turn["chunks"] >= 1 and turn["text"]
        assert turn["generationCompleteFirst"] is True
        usage = turn["usageMetadata"]
        assert usage["promptTokenCount"] > 0 and usage["responseTokenCount"] > 0
        assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["responseTokenCount"]

    # The second turn's LLM request carries the whole conversation, system instruction first.
    # Found by content: plain_server is shared with other tests.
    expected = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hello from JS"},
        {"role": "assistant", "content": first["text"]},
        {"role": "user", "content": "Second turn"},
    ]
    requests = [r["messages"] for r in plain_server.llm_requests()]
    second_requests = [m for m in requests if {"role": "user", "content": "Second turn"} in m]
    assert second_requests, requests
    assert second_requests[-1] == expected


def test_audio_and_text_modalities_rejected(plain_server: ServerProcess) -> None:
    result = run_script(plain_server, "bad-config")

    assert result["connectError"] is not None, "connect() resolved for AUDIO+TEXT"
    assert "1007" in result["connectError"]
