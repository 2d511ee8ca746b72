"""Attacks from issue 14, each as a regression test against a real server, with a bystander
session that must still answer after it (docs/limits.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import ssl
import stat
import zlib

import httpx
import pytest

from ..raw_ws import (
    GEMINI_PATH,
    TEXT_SETUP,
    close_of,
    connect,
    receive_until_turn_complete,
    recv_json,
)
from ..servers import ServerProcess, start_server
from ..tool_servers import scripted_openai_server, text_stream, tool_call_stream

KEY_A, KEY_B = "hostile-key-a", "hostile-key-b"
CONSTRAINED = GEMINI_PATH.removesuffix("BidiGenerateContent") + "BidiGenerateContentConstrained"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory):
    server = start_server(
        tmp_path_factory.mktemp("hostile"),
        "--api-key",
        KEY_A,
        "--api-key",
        KEY_B,
        # TLS: the header timeout must also hold (and stay quiet) on TLS transports.
        env={"OPENLIVE_MAX_SESSIONS_PER_KEY": "2", "OPENLIVE_HEADER_TIMEOUT_S": "1"},
    )
    yield server
    server.stop()


def tls_context(server: ServerProcess) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=server.ca_cert) if server.tls else False


def with_key(key: str) -> str:
    return f"{GEMINI_PATH}?key={key}"


async def open_session(server: ServerProcess, path: str, setup: dict | None = None, **kw):
    ws = await connect(server, path, **kw).__aenter__()
    await ws.send(json.dumps(setup or TEXT_SETUP))
    assert "setupComplete" in await recv_json(ws)
    return ws


async def assert_answers(ws) -> None:
    await ws.send(json.dumps({"realtimeInput": {"text": "still there?"}}))
    messages = await receive_until_turn_complete(ws)
    assert messages[-1]["serverContent"]["turnComplete"] is True


async def refused(server: ServerProcess, path: str, frame: str | bytes, **kw) -> tuple[int, str]:
    async with connect(server, path, **kw) as ws:
        await ws.send(frame)
        return await close_of(ws)


async def test_credentials_are_checked_before_the_setup_is_decoded(keyed_server) -> None:
    bystander = await open_session(keyed_server, with_key(KEY_A))
    deep = "[" * 50_000 + "]" * 50_000  # costly to parse; malformed past its depth anyway
    for frame in (deep, "{not json", json.dumps(TEXT_SETUP)):
        code, reason = await refused(keyed_server, with_key("wrong"), frame)
        assert (code, reason) == (1007, "API key not valid. Please pass a valid API key.")
    # Route before content too.
    code, _ = await refused(keyed_server, "/ws/nowhere?key=" + KEY_A, deep)
    assert code == 1008
    await assert_answers(bystander)
    await bystander.close()


async def test_permessage_deflate_bomb_from_a_stranger_is_refused_by_its_key(keyed_server) -> None:
    # A few KB on the wire that inflate to megabytes of broken JSON: refused for the key,
    # without parsing it (which would have answered "Invalid JSON payload").
    bomb = '{"setup": {"model": "' + "a" * 4_000_000
    assert len(zlib.compress(bomb.encode())) < 20_000
    code, reason = await refused(keyed_server, with_key("wrong"), bomb, compression="deflate")
    assert (code, reason) == (1007, "API key not valid. Please pass a valid API key.")


async def test_deep_nesting_closes_1007_and_spares_the_bystander(keyed_server) -> None:
    bystander = await open_session(keyed_server, with_key(KEY_A))
    response: dict = {}
    for _ in range(200):
        response = {"a": response}
    frame = json.dumps(
        {"toolResponse": {"functionResponses": [{"name": "f", "response": response}]}}
    )
    async with connect(keyed_server, with_key(KEY_B)) as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        await recv_json(ws)
        await ws.send(frame)
        code, reason = await close_of(ws)
    assert code == 1007 and "nested deeper than 64" in reason
    await assert_answers(bystander)
    await bystander.close()


async def test_long_unknown_field_names_are_logged_cut(keyed_server) -> None:
    name = "z" * 100_000
    async with connect(keyed_server, with_key(KEY_A)) as ws:
        setup = {"setup": {**TEXT_SETUP["setup"], **{f"{name}{i}": 1 for i in range(50)}}}
        await ws.send(json.dumps(setup))
        assert "setupComplete" in await recv_json(ws)
    log = keyed_server.log()
    assert "z" * 61 not in log
    assert "more unknown fields" in log


async def resumable(server: ServerProcess, path: str) -> str:
    """A session's resumption handle, after one turn."""
    setup = {"setup": {**TEXT_SETUP["setup"], "sessionResumption": {}}}
    async with connect(server, path) as ws:
        await ws.send(json.dumps(setup))
        handle = ""
        while not handle:
            message = await recv_json(ws)
            handle = message.get("sessionResumptionUpdate", {}).get("newHandle", "")
    return handle


def resume_setup(handle: str) -> str:
    return json.dumps({"setup": {**TEXT_SETUP["setup"], "sessionResumption": {"handle": handle}}})


async def test_a_handle_resumes_only_for_the_key_that_made_it(keyed_server) -> None:
    handle = await resumable(keyed_server, with_key(KEY_A))
    code, reason = await refused(keyed_server, with_key(KEY_B), resume_setup(handle))
    assert code == 1008 and "unknown or has expired" in reason
    async with connect(keyed_server, with_key(KEY_A)) as ws:
        await ws.send(resume_setup(handle))
        assert "setupComplete" in await recv_json(ws)


async def new_token(server: ServerProcess, body: dict) -> str:
    async with httpx.AsyncClient(verify=tls_context(server)) as http:
        answer = await http.post(f"{server.http_url}/v1alpha/auth_tokens?key={KEY_A}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["name"]


def token_path(token: str) -> str:
    return f"{CONSTRAINED}?access_token={token}"


async def test_a_token_resumes_only_its_own_sessions(keyed_server) -> None:
    first = await new_token(keyed_server, {"uses": 1})
    other = await new_token(keyed_server, {"uses": 0})
    handle = await resumable(keyed_server, token_path(first))
    # Another token of the same key, and the key's other sessions, are not the token's.
    code, _ = await refused(keyed_server, token_path(other), resume_setup(handle))
    assert code == 1008
    key_handle = await resumable(keyed_server, with_key(KEY_A))
    code, _ = await refused(keyed_server, token_path(first), resume_setup(key_handle))
    assert code == 1008
    # Its own session, and the key that asked for it, may resume (a resume is not a use).
    for path in (token_path(first), with_key(KEY_A)):
        async with connect(keyed_server, path) as ws:
            await ws.send(resume_setup(handle))
            assert "setupComplete" in await recv_json(ws)
    code, _ = await refused(keyed_server, with_key(KEY_B), resume_setup(handle))
    assert code == 1008


async def test_a_locked_system_instruction_cannot_be_replaced_by_context_update(
    keyed_server,
) -> None:
    token = await new_token(
        keyed_server,
        {"uses": 0, "bidiGenerateContentSetup": {"systemInstruction": {"parts": [{"text": "L"}]}}},
    )
    ws = await open_session(keyed_server, token_path(token))
    await ws.send(json.dumps({"contextUpdate": {"systemInstruction": {"parts": [{"text": "x"}]}}}))
    code, reason = await close_of(ws)
    assert code == 1008 and "locked by the ephemeral token" in reason


async def test_limits_count_the_credential_that_was_accepted(keyed_server) -> None:
    # max 2 sessions per key: junk key= values beside a valid bearer are not new credentials.
    bearer = {"Authorization": f"Bearer {KEY_B}"}
    held = [
        await open_session(keyed_server, f"{GEMINI_PATH}?key=junk{i}", additional_headers=bearer)
        for i in range(2)
    ]
    code, reason = await refused(
        keyed_server, f"{GEMINI_PATH}?key=junk9", json.dumps(TEXT_SETUP), additional_headers=bearer
    )
    assert (code, reason) == (1011, "Resource has been exhausted (e.g. check quota).")
    for ws in held:
        await ws.close()


@pytest.mark.parametrize(
    ("body", "status"),
    [({"uses": 1e400}, 400), ({"uses": "many"}, 400), ({"pad": "x" * 2_000_000}, 413)],
)
async def test_token_requests_out_of_bounds_are_client_errors(keyed_server, body, status) -> None:
    async with httpx.AsyncClient(verify=tls_context(keyed_server)) as http:
        content = json.dumps(body).replace('"uses": Infinity', '"uses": 1e400')
        answer = await http.post(
            f"{keyed_server.http_url}/v1alpha/auth_tokens?key={KEY_A}",
            content=content,
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == status


async def test_a_slow_header_client_is_disconnected(keyed_server) -> None:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", keyed_server.port, ssl=tls_context(keyed_server)
    )
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
    writer.close()


def test_the_session_store_is_private(keyed_server) -> None:
    mode = stat.S_IMODE(os.stat(keyed_server.workdir / "data" / "sessions.db").st_mode)
    assert mode == 0o600


async def test_healthz_is_not_ready_when_full_or_draining(server_factory) -> None:
    server = server_factory(
        tls=False, env={"OPENLIVE_MAX_SESSIONS": "1", "OPENLIVE_DRAIN_GRACE_S": "3"}
    )
    health = f"{server.http_url}/healthz"
    async with httpx.AsyncClient() as http:
        assert (await http.get(health)).status_code == 200
        ws = await open_session(server, GEMINI_PATH)
        answer = await http.get(health)
        assert (answer.status_code, answer.json()["status"]) == (503, "saturated")
        code, reason = await refused(server, GEMINI_PATH, json.dumps(TEXT_SETUP))
        assert (code, reason) == (1011, "Resource has been exhausted (e.g. check quota).")
        await ws.close()
        await asyncio.sleep(0.3)
        assert (await http.get(health)).status_code == 200
        ws = await open_session(server, GEMINI_PATH)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        answer = await http.get(health)
        assert (answer.status_code, answer.json()["status"]) == (503, "draining")
        code, _ = await close_of(ws)
        assert code == 1001
    server.process.wait(timeout=15)


def raw_upgrade(port: int) -> socket.socket:
    """A WebSocket opened by hand, so that nothing reads what the server sends."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {GEMINI_PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_ping_flood_from_a_peer_that_reads_nothing_is_throttled(plain_server) -> None:
    # Each ping is answered by a pong; the peer reads none. The server must stop reading
    # (so our sends stall once the kernel buffers fill) instead of buffering pongs in memory.
    mask = os.urandom(4)
    ping = bytes([0x89, 0x80 | 125]) + mask + bytes(mask[i % 4] for i in range(125))
    burst = ping * 1000
    sock = raw_upgrade(plain_server.port)
    sock.settimeout(5)
    sent, stalled = 0, False
    try:
        while sent < 48 * 1024 * 1024:
            sock.sendall(burst)
            sent += len(burst)
    except TimeoutError:
        stalled = True
    finally:
        sock.close()
    assert stalled, f"the server read {sent} bytes of pings without its pongs being read"


async def test_the_connection_cap_holds_for_websockets(server_factory) -> None:
    import websockets

    server = server_factory(tls=False, env={"OPENLIVE_MAX_CONNECTIONS": "3"})
    held = [await connect(server).__aenter__() for _ in range(3)]
    with pytest.raises(websockets.InvalidStatus) as raised:
        async with connect(server):
            pass
    assert raised.value.response.status_code == 503
    await held.pop().close()
    await asyncio.sleep(0.3)
    ws = await open_session(server, GEMINI_PATH)
    await assert_answers(ws)
    for socket_ in [*held, ws]:
        await socket_.close()


async def test_a_lone_surrogate_in_text_gets_an_answer_not_1011(keyed_server) -> None:
    ws = await open_session(keyed_server, with_key(KEY_A))
    await ws.send('{"realtimeInput": {"text": "hello \\ud800 there"}}')
    messages = await receive_until_turn_complete(ws)
    assert messages[-1]["serverContent"]["turnComplete"] is True
    await ws.close()


async def test_a_turn_longer_than_the_context_closes_1008(keyed_server) -> None:
    # With compression on, the window drops old turns, but one turn can still be too long.
    bystander = await open_session(keyed_server, with_key(KEY_B))
    compressed = {
        "setup": {**TEXT_SETUP["setup"], "contextWindowCompression": {"slidingWindow": {}}}
    }
    ws = await open_session(keyed_server, with_key(KEY_A), compressed)
    await ws.send(json.dumps({"realtimeInput": {"text": "y" * 300_000}}))
    code, reason = await close_of(ws, timeout=120)
    assert (code, reason) == (1008, "The input is longer than the model's context window.")
    await assert_answers(bystander)
    await bystander.close()


async def test_the_event_loop_lag_is_on_the_metrics(keyed_server) -> None:
    async with httpx.AsyncClient(verify=tls_context(keyed_server)) as http:
        metrics = (await http.get(f"{keyed_server.http_url}/metrics")).text
    assert 'openlive_event_loop_lag_seconds_bucket{le="0.01"}' in metrics
    assert "openlive_event_loop_lag_recent_max_seconds " in metrics


def reminders(body: dict) -> list[str]:
    """A model that sets a reminder whenever it may, and answers in words otherwise."""
    if body.get("tools"):
        return tool_call_stream([("remind", {"what": "tea"})])
    return text_stream("Still here.")


REMIND = {"name": "remind", "description": "Set a reminder.", "behavior": "NON_BLOCKING"}


async def test_unanswered_calls_past_the_bound_cancel_the_oldest_and_spare_the_bystander(
    server_factory,
) -> None:
    with scripted_openai_server(reminders) as llm:
        env = {"OPENLIVE_MAX_PENDING_CALLS": "2"}
        server = server_factory("--llm", f"openai:{llm.url}", tls=False, env=env)
        bystander = await open_session(server, GEMINI_PATH)
        tools = {"tools": [{"functionDeclarations": [REMIND]}]}
        ws = await open_session(server, GEMINI_PATH, {"setup": {**TEXT_SETUP["setup"], **tools}})
        calls, cancelled = [], []
        for n in range(3):  # fire and forget: no call is ever answered
            await ws.send(json.dumps({"realtimeInput": {"text": f"remind me ({n})"}}))
            for message in await receive_until_turn_complete(ws):
                if "toolCall" in message:
                    calls += [call["id"] for call in message["toolCall"]["functionCalls"]]
                if "toolCallCancellation" in message:
                    cancelled += message["toolCallCancellation"]["ids"]
        assert len(calls) == 3
        assert cancelled == calls[:1]  # the oldest made room for the third
        late = {"id": calls[0], "name": "remind", "response": {"ok": True}}
        await ws.send(json.dumps({"toolResponse": {"functionResponses": [late]}}))
        await ws.send(json.dumps({"realtimeInput": {"text": "and one more"}}))
        messages = await receive_until_turn_complete(ws)  # the late answer closed nothing
        assert any("toolCallCancellation" in m for m in messages)
        await assert_answers(bystander)
        await ws.close()
        await bystander.close()


async def test_a_manual_turn_past_its_audio_bound_closes_1008_and_spares_the_bystander(
    server_factory,
) -> None:
    env = {"OPENLIVE_MAX_TURN_AUDIO_S": "2"}
    server = server_factory("--tts-mode", "fast", tls=False, speech=True, env=env)
    bystander = await open_session(server, GEMINI_PATH)
    setup = {
        "setup": {
            "model": "models/x",
            "generationConfig": {"responseModalities": ["AUDIO"]},
            "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
        }
    }
    ws = await open_session(server, GEMINI_PATH, setup)
    await ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
    second = base64.b64encode(bytes(32_000)).decode()  # 1 s of 16 kHz PCM
    blob = {"realtimeInput": {"audio": {"data": second, "mimeType": "audio/pcm;rate=16000"}}}
    for _ in range(3):
        await ws.send(json.dumps(blob))
    code, reason = await close_of(ws)
    assert (code, reason) == (1008, "More than 2 s of audio between activityStart and activityEnd.")
    await assert_answers(bystander)
    await bystander.close()
