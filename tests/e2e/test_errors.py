"""Bad input closes the session with the right code and a short reason; nothing else is harmed."""

from __future__ import annotations

import asyncio
import json

import pytest
from google.genai import errors

from ..genai_helpers import MODEL, client_for, receive_turn, text_config, user_text
from ..raw_ws import TEXT_SETUP, close_of, connect, receive_until_turn_complete, recv_json
from ..servers import ServerProcess


def assert_short(reason: str) -> None:
    assert 0 < len(reason.encode("utf-8")) <= 123


async def open_session(server: ServerProcess):
    ws = await connect(server).__aenter__()
    await ws.send(json.dumps(TEXT_SETUP))
    assert "setupComplete" in await recv_json(ws)
    return ws


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (["{not json"], "Invalid JSON payload"),
        ([b"\xff\xfe binary garbage"], "Invalid JSON payload"),
        (["[1, 2]"], "JSON object"),
        (["{}"], "exactly one"),
        ([json.dumps({**TEXT_SETUP, "clientContent": {}})], "exactly one"),
        ([json.dumps({"bogus": {}})], 'Unknown name "bogus"'),
        ([json.dumps({"clientContent": {"turnComplete": True}})], "first message must be setup"),
        ([json.dumps(TEXT_SETUP), json.dumps(TEXT_SETUP)], "setup must be sent only once"),
        (
            [json.dumps(TEXT_SETUP), json.dumps({"realtimeInput": {"audio": {"data": "%%%"}}})],
            "realtime_input.audio.data",
        ),
        (
            [
                json.dumps(
                    {"setup": {"generationConfig": {"responseModalities": ["AUDIO", "TEXT"]}}}
                )
            ],
            "response_modalities",
        ),
        (
            [
                json.dumps(TEXT_SETUP),
                json.dumps(
                    {"toolResponse": {"functionResponses": [{"id": "nope", "response": {}}]}}
                ),
            ],
            "no pending function call",
        ),
    ],
)
async def test_bad_frames_close_1007_with_a_clear_reason(
    plain_server: ServerProcess, frames: list, expected: str
) -> None:
    async with connect(plain_server) as ws:
        for frame in frames:
            await ws.send(frame)
        code, reason = await close_of(ws)
    assert code == 1007
    assert expected in reason
    assert_short(reason)


async def test_oversized_frame_closes_1007(server_factory) -> None:
    server = server_factory(tls=False, env={"OPENLIVE_MAX_MESSAGE_BYTES": "100000"})
    async with connect(server) as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        await recv_json(ws)
        await ws.send(json.dumps({"realtimeInput": {"text": "x" * 200_000}}))
        code, reason = await close_of(ws)
    assert (code, reason) == (1007, "Request payload size exceeds the limit: 100000 bytes.")


async def test_errors_leave_other_sessions_and_the_server_running(
    plain_server: ServerProcess,
) -> None:
    bystander = await open_session(plain_server)
    for frame in ["{bad", json.dumps({"x": 1}), "[]"]:
        async with connect(plain_server) as ws:
            await ws.send(frame)
            assert (await close_of(ws))[0] == 1007
    await bystander.send(json.dumps({"realtimeInput": {"text": "still there?"}}))
    messages = await receive_until_turn_complete(bystander)
    assert messages[-1]["serverContent"]["turnComplete"] is True
    await bystander.close()


async def test_bad_api_key_closes_1007_with_googles_wording(server_factory) -> None:
    server = server_factory("--api-key", "right-key")
    with pytest.raises(errors.APIError) as raised:
        async with client_for(server, api_key="wrong-key").aio.live.connect(
            model=MODEL, config=text_config()
        ):
            pass
    assert raised.value.code == 1007
    assert "API key not valid. Please pass a valid API key." in str(raised.value)

    async with client_for(server, api_key="right-key").aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_client_content(turns=user_text("authorised"))
        assert (await receive_turn(session)).events()[-1] == "turnComplete"


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?key=right-key", {}),
        ("", {"x-goog-api-key": "right-key"}),
        ("", {"Authorization": "Bearer right-key"}),
        ("?access_token=right-key", {}),
    ],
)
async def test_every_credential_form_is_accepted(server_factory, query, headers) -> None:
    server = server_factory("--api-key", "other-key", "--api-key", "right-key", tls=False)
    from ..raw_ws import GEMINI_PATH

    async with connect(server, GEMINI_PATH + query, additional_headers=headers) as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        assert "setupComplete" in await recv_json(ws)


async def test_unknown_model_closes_1008_when_models_are_restricted(server_factory) -> None:
    server = server_factory("--allowed-model", "gemini-live-2.5-flash")
    client = client_for(server)
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model="gemini-9-ultra", config=text_config()):
            pass
    assert raised.value.code == 1008
    reason = raised.value.details
    assert reason.startswith("models/gemini-9-ultra is not found for API version v1beta")
    assert_short(reason)
    async with client.aio.live.connect(model="gemini-live-2.5-flash", config=text_config()) as s:
        assert s.session_id


async def test_strict_mode_refuses_unknown_setup_fields(server_factory) -> None:
    setup = {"setup": {"model": "models/x", "generationConfig": {"madeUpField": 1}}}
    lenient = server_factory(tls=False)
    async with connect(lenient) as ws:
        await ws.send(json.dumps(setup))
        assert "setupComplete" in await recv_json(ws)
    assert "madeUpField" in lenient.log()

    strict = server_factory("--strict", tls=False)
    async with connect(strict) as ws:
        await ws.send(json.dumps(setup))
        code, reason = await close_of(ws)
    assert code == 1007
    assert reason == (
        'Invalid JSON payload received. Unknown name "madeUpField" at '
        "'setup.generation_config': Cannot find field."
    )


async def test_unknown_path_closes_1008(plain_server: ServerProcess) -> None:
    async with connect(plain_server, "/ws/not.a.live.Endpoint") as ws:
        await ws.send(json.dumps(TEXT_SETUP))
        code, reason = await close_of(ws)
    assert code == 1008
    assert_short(reason)


async def test_pings_are_answered_while_sessions_generate(plain_server: ServerProcess) -> None:
    busy = []
    for _ in range(2):
        ws = await open_session(plain_server)
        await ws.send(json.dumps({"realtimeInput": {"text": "Write a very long essay."}}))
        busy.append(ws)
    async with connect(plain_server) as probe:
        for _ in range(5):
            pong = await probe.ping()
            await asyncio.wait_for(pong, timeout=5)
    for ws in busy:
        await ws.close()


async def test_clients_that_leave_mid_reply_leave_a_clean_log(server_factory) -> None:
    """Dropped TCP connections and early closes while replies stream: the other sessions are
    answered, and the server logs no unhandled task or callback failure (asyncio's "Task
    exception was never retrieved" / "Exception in callback") and no traceback."""
    server = server_factory(tls=False)
    for round_ in range(2):
        leaving = []
        for _ in range(2):  # within the LLM's parallel slots, so each reply is streaming
            ws = await open_session(server)
            await ws.send(json.dumps({"realtimeInput": {"text": "Write a very long essay."}}))
            leaving.append(ws)
        for ws in leaving:
            await recv_json(ws)  # the reply is streaming
        for k, ws in enumerate(leaving):
            if (k + round_) % 2:
                ws.transport.abort()  # gone without a close frame
            else:
                await ws.close()
        bystander = await open_session(server)
        await bystander.send(json.dumps({"realtimeInput": {"text": "Hello!"}}))
        messages = await receive_until_turn_complete(bystander)
        assert any("modelTurn" in m.get("serverContent", {}) for m in messages)
        await bystander.close()
    await asyncio.sleep(1.0)  # let the server finish the sessions it is closing
    server.stop()
    log = server.log()
    assert "Traceback" not in log, log
    server.assert_loop_errors_handled()
