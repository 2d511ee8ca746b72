"""The ``openai:`` engine against a real OpenAI-compatible server on loopback (llama.cpp's HTTP
server on the packaged weights), and what happens when that server dies mid-session."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from google.genai import errors

from ..genai_helpers import (
    MODEL,
    client_for,
    receive_turn,
    requests_containing,
    text_config,
    user_text,
)
from ..servers import REPO, free_port


@dataclass
class LLMServer:
    base_url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_http_server", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield LLMServer(base_url, process)
    process.kill()
    process.wait()


async def test_conversation_through_an_openai_compatible_server(server_factory, llm_server):
    server = server_factory("--llm", f"openai:{llm_server.base_url}")
    assert (
        llm_server.base_url in httpx.get(f"{server.http_url}/healthz", verify=False).json()["llm"]
    )
    client = client_for(server)
    async with client.aio.live.connect(
        model=MODEL, config=text_config(system_instruction="Be brief.")
    ) as session:
        await session.send_client_content(turns=user_text("Remote turn one"))
        first = await receive_turn(session)
        await session.send_realtime_input(text="Remote turn two")
        second = await receive_turn(session)

    for turn in (first, second):
        assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
        assert turn.last.usage_metadata.prompt_token_count > 0
    [request] = requests_containing(server, "Remote turn two")
    assert [m["role"] for m in request["messages"]] == ["system", "user", "assistant", "user"]
    assert request["messages"][2]["content"] == first.text


async def test_engine_failure_closes_only_that_session_with_1011(server_factory, llm_server):
    server = server_factory("--llm", f"openai:{llm_server.base_url}")
    client = client_for(server)
    async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
        await session.send_client_content(turns=user_text("before the engine dies"))
        assert (await receive_turn(session)).events()[-1] == "turnComplete"

        # Kill the model server: the next turn must end cleanly, then close 1011.
        llm_server.process.kill()
        llm_server.process.wait()
        await session.send_client_content(turns=user_text("after the engine died"))
        seen = []
        with pytest.raises(errors.APIError) as raised:
            async for message in session.receive():
                seen.append(message)
            async for message in session.receive():
                seen.append(message)
    assert seen and seen[-1].server_content.turn_complete
    assert raised.value.code == 1011
    assert "Internal error encountered." in str(raised.value)
    assert httpx.get(f"{server.http_url}/healthz", verify=False).status_code == 200
