"""Several nodes behind a real balancer: haproxy (Debian's) in front of two openlive processes
sharing one Redis. Sessions spread over both; a node drained with SIGTERM says goAway, haproxy's
health check takes it out, and its client resumes through the balancer on the other node with
its history and the blocking call it still owed, answered there: no turn lost."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from ..balancer import Balancer, start_balancer
from ..genai_helpers import MODEL, receive_turn, requests_containing, user_text
from ..servers import ServerProcess, start_server
from .test_sessions import next_handle, redis_url, talk, text_config  # noqa: F401 (a fixture)
from .test_tools import PARIS, assert_weather_call, weather_report
from .test_tools import tool_config as weather_config


@dataclass
class Cluster:
    nodes: dict[str, ServerProcess]
    balancer: Balancer

    def client(self) -> genai.Client:
        # TLS ends at the balancer; the SDK reads SSL_CERT_FILE when it connects.
        os.environ["SSL_CERT_FILE"] = str(self.balancer.certificate.bundle)
        options = types.HttpOptions(base_url=self.balancer.http_url, api_version="v1beta")
        return genai.Client(api_key="test-key", http_options=options)

    def node_that_heard(self, text: str) -> str:
        [name] = [name for name, node in self.nodes.items() if requests_containing(node, text)]
        return name


@pytest.fixture
def cluster(tmp_path: Path, redis_url: str) -> Iterator[Cluster]:  # noqa: F811
    env = {"OPENLIVE_STORE": redis_url, "OPENLIVE_DRAIN_GRACE_S": "3"}
    nodes = {
        name: start_server(tmp_path / name, tls=False, env=env, wait=False) for name in ("a", "b")
    }
    for node in nodes.values():
        node.wait_ready()
    balancer = start_balancer(tmp_path, nodes)
    yield Cluster(nodes, balancer)
    balancer.stop()
    for node in nodes.values():
        node.stop()


async def test_sessions_spread_over_the_nodes_and_drain_moves_them(cluster: Cluster) -> None:
    client = cluster.client()
    # Round robin: four sessions through the balancer land on both nodes.
    for number in range(4):
        async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
            await next_handle(session)
            await talk(session, f"Spread session {number}.")
    served = [cluster.node_that_heard(f"Spread session {number}.") for number in range(4)]
    assert set(served) == {"a", "b"}, served

    # A session with history and a blocking call it still owes, on whichever node it lands.
    config = weather_config(session_resumption=types.SessionResumptionConfig())
    went_away = None
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        # Its handle is re-stored in place as the conversation goes on and the call waits.
        handle = await next_handle(session)
        # History without a reply of its own (a function-calling model may answer anything
        # with a call), then the question that makes the call.
        await session.send_client_content(
            turns=user_text("Remember the fruit: lychee."), turn_complete=False
        )
        await session.send_client_content(turns=user_text(PARIS))
        async with asyncio.timeout(60):
            async for message in session.receive():
                if message.tool_call is not None:
                    [call] = message.tool_call.function_calls
                    break
        first = cluster.node_that_heard(PARIS)
        cluster.nodes[first].process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            while went_away is None:
                async for message in session.receive():
                    if message.session_resumption_update is not None:
                        handle = message.session_resumption_update.new_handle or handle
                    if message.go_away is not None:
                        went_away = message.go_away
                        break
    assert_weather_call(call, "Paris")
    assert went_away is not None and went_away.time_left

    other = "b" if first == "a" else "a"
    # The draining node answers its health check with 503, so the balancer takes it out.
    cluster.balancer.wait_for({first: "DOWN", other: "UP"})
    resumed = weather_config(session_resumption=types.SessionResumptionConfig(handle=handle))
    async with client.aio.live.connect(model=MODEL, config=resumed) as session:
        await next_handle(session)
        await session.send_tool_response(function_responses=[weather_report(call, "drained-7f1")])
        turn = await receive_turn(session)
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    # The other node answered the call, with the conversation from the first one.
    history = requests_containing(cluster.nodes[other], "drained-7f1")
    assert history, "the resumed turn did not reach the other node"
    said = "\n".join(m.get("content") or "" for m in history[-1]["messages"] if m["role"] == "user")
    assert "Remember the fruit: lychee." in said  # (consecutive user turns may share a message)
    assert PARIS in said
    assert cluster.nodes[first].process.wait(timeout=30) == 0
