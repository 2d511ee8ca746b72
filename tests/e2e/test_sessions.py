"""Sessions that outlive connections and processes: resumption, goAway, draining, context."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.genai import errors, types

from ..genai_helpers import MODEL, client_for, receive_turn, requests_containing, user_text
from ..genai_helpers import text_config as base_config
from ..servers import ServerProcess, free_port


def text_config(handle: str | None = None, **overrides) -> types.LiveConnectConfig:
    return base_config(
        session_resumption=types.SessionResumptionConfig(handle=handle),
        max_output_tokens=20,
        **overrides,
    )


async def next_handle(session) -> str:
    """The next sessionResumptionUpdate: after setupComplete, and after each completed turn."""
    async with asyncio.timeout(30):
        async for message in session.receive():
            update = message.session_resumption_update
            if update is not None:
                assert update.resumable is True
                assert update.new_handle
                return update.new_handle
    raise AssertionError("no sessionResumptionUpdate")


async def talk(session, text: str) -> str:
    """One turn; returns the handle issued after it."""
    await session.send_client_content(turns=user_text(text))
    turn = await receive_turn(session)
    assert turn.events()[-1] == "turnComplete"
    return await next_handle(session)


async def first_turns(server: ServerProcess, *texts: str) -> str:
    async with client_for(server).aio.live.connect(model=MODEL, config=text_config()) as session:
        handle = await next_handle(session)
        for text in texts:
            handle = await talk(session, text)
    return handle


def history_of(server: ServerProcess, needle: str) -> list[dict]:
    [request] = requests_containing(server, needle)
    return request["messages"]


async def test_resume_after_the_client_disconnects(server_factory) -> None:
    server = server_factory()
    handle = await first_turns(server, "Remember the word: tangerine.")
    async with client_for(server).aio.live.connect(
        model=MODEL, config=text_config(handle)
    ) as session:
        await next_handle(session)
        await talk(session, "Which word? (resumed)")
    history = history_of(server, "Which word? (resumed)")
    assert {"role": "user", "content": "Remember the word: tangerine."} in history


async def test_resume_on_another_process_after_kill_9(server_factory, tmp_path: Path) -> None:
    shared = {"OPENLIVE_DATA_DIR": str(tmp_path / "shared-data")}
    first = server_factory(env=shared)
    handle = await first_turns(first, "Turn one: apples.", "Turn two: pears.")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()

    second = server_factory(env=shared)
    async with client_for(second).aio.live.connect(
        model=MODEL, config=text_config(handle)
    ) as session:
        await next_handle(session)
        await talk(session, "Turn three, on the second process.")
    contents = [m["content"] for m in history_of(second, "Turn three, on the second process.")]
    assert "Turn one: apples." in contents
    assert "Turn two: pears." in contents


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed (./run test installs it with apt-get)")
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait()


async def test_resume_across_processes_with_redis(server_factory, redis_url: str) -> None:
    first = server_factory(env={"OPENLIVE_STORE": redis_url})
    second = server_factory(env={"OPENLIVE_STORE": redis_url})
    handle = await first_turns(first, "Shared through Redis: plums.")
    async with client_for(second).aio.live.connect(
        model=MODEL, config=text_config(handle)
    ) as session:
        await next_handle(session)
        await talk(session, "Continued on the other process.")
    contents = [m["content"] for m in history_of(second, "Continued on the other process.")]
    assert "Shared through Redis: plums." in contents


async def test_expired_and_unknown_handles_close_1008(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_RESUMPTION_TTL_S": "1"})
    handle = await first_turns(server, "Short-lived.")
    await asyncio.sleep(2.5)
    for stale in (handle, "no-such-handle"):
        with pytest.raises(errors.APIError) as raised:
            async with client_for(server).aio.live.connect(
                model=MODEL, config=text_config(stale)
            ) as session:
                await session.send_client_content(turns=user_text("hello?"))
                await receive_turn(session)
        assert raised.value.code == 1008
        assert "unknown or has expired" in str(raised.value)


async def test_forced_go_away_then_reconnect_with_the_last_handle(server_factory) -> None:
    server = server_factory(
        env={"OPENLIVE_DEBUG_GOAWAY_AFTER_S": "3", "OPENLIVE_GOAWAY_NOTICE_S": "1"}
    )
    client = client_for(server)
    handle = None
    went_away = None
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
            handle = await next_handle(session)
            handle = await talk(session, "Before goAway: cherries.")
            async for message in session.receive():
                if message.go_away is not None:
                    went_away = message.go_away.time_left
            async for _message in session.receive():  # the close after the notice
                pass
    assert went_away == "1s"
    assert raised.value.code == 1001

    async with client.aio.live.connect(model=MODEL, config=text_config(handle)) as session:
        await next_handle(session)
        await talk(session, "After reconnecting.")
    contents = [m["content"] for m in history_of(server, "After reconnecting.")]
    assert "Before goAway: cherries." in contents


async def test_sigterm_drains_with_go_away(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_DRAIN_GRACE_S": "1"})
    messages = []
    with pytest.raises(errors.APIError) as raised:
        async with client_for(server).aio.live.connect(model=MODEL, config=text_config()) as s:
            await next_handle(s)
            server.process.send_signal(signal.SIGTERM)
            while True:
                async for message in s.receive():
                    messages.append(message)
    assert any(m.go_away is not None for m in messages)
    assert raised.value.code == 1001
    assert server.process.wait(timeout=30) == 0


async def test_compression_keeps_a_long_session_going(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_LLM_CONTEXT": "1024"})
    compression = types.ContextWindowCompressionConfig(
        trigger_tokens=500, sliding_window=types.SlidingWindow(target_tokens=250)
    )
    filler = "Please consider this long sentence about rivers and mountains and lakes. " * 6
    config = text_config(system_instruction="Stay brief.", context_window_compression=compression)
    async with client_for(server).aio.live.connect(model=MODEL, config=config) as session:
        await next_handle(session)
        for index in range(12):
            await talk(session, f"Long turn {index}. {filler}")
    last = history_of(server, "Long turn 11.")
    assert last[0] == {"role": "system", "content": "Stay brief."}
    assert not any("Long turn 0." in (m["content"] or "") for m in last)
    assert last[1]["role"] == "user"


async def test_without_compression_an_overfull_session_closes_cleanly(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_LLM_CONTEXT": "1024"})
    filler = "Please consider this long sentence about rivers and mountains and lakes. " * 6
    with pytest.raises(errors.APIError) as raised:
        async with client_for(server).aio.live.connect(
            model=MODEL, config=text_config()
        ) as session:
            await next_handle(session)
            for index in range(30):
                await talk(session, f"Growing turn {index}. {filler}")
    assert raised.value.code == 1008
    assert "Context window exhausted" in str(raised.value)


async def test_a_pending_blocking_call_survives_a_reconnect(server_factory) -> None:
    from .test_tools import PARIS, assert_weather_call, weather_report
    from .test_tools import tool_config as weather_config

    server = server_factory()
    client = client_for(server)
    config = weather_config(session_resumption=types.SessionResumptionConfig())
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        handle = await next_handle(session)
        await session.send_client_content(turns=user_text(PARIS))
        async with asyncio.timeout(60):
            async for message in session.receive():
                if message.tool_call is not None:
                    [call] = message.tool_call.function_calls
                    break
    # The connection dropped while the call was pending; the response comes on the next one.
    assert_weather_call(call, "Paris")
    resumed = weather_config(session_resumption=types.SessionResumptionConfig(handle=handle))
    async with client.aio.live.connect(model=MODEL, config=resumed) as session:
        await next_handle(session)
        await session.send_tool_response(
            function_responses=[weather_report(call, "marker-resumed-9d2")]
        )
        turn = await receive_turn(session)
    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    history = history_of(server, "marker-resumed-9d2")
    assert any(m["content"] == PARIS for m in history)
