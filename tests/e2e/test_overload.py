"""Overload on a real server and the real embedded runtime (engines/llm/slots.py): once a turn has
waited too long for the LLM, new sessions are refused the way Google refuses them, a balancer is
told, and the sessions already open (resumed ones included) are still served in order.

One LLM slot and a 100 ms target make the packaged test model overload with two sessions."""

from __future__ import annotations

import asyncio
import ssl
import time

import httpx
import pytest
from google.genai import errors, types

from ..genai_helpers import MODEL, client_for, text_config
from ..servers import ServerProcess

ESSAY = "Write a very long essay about the history of rivers and bridges."


async def answer(session, text: str) -> str:
    await session.send_realtime_input(text=text)
    reply = ""
    async for message in session.receive():
        if message.text:
            reply += message.text
    return reply


async def handle_after_one_turn(session) -> str:
    await session.send_realtime_input(text="Hello.")
    handle = ""
    async for message in session.receive():
        update = message.session_resumption_update
        if update is not None and update.new_handle:
            handle = update.new_handle
    return handle


async def wait_for_health(http: httpx.AsyncClient, url: str, status: int, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while (answer := await http.get(url)).status_code != status:
        assert time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.1)


async def test_an_overloaded_llm_refuses_new_sessions_and_serves_the_open_ones(
    server_factory,
) -> None:
    server: ServerProcess = server_factory(
        env={"OPENLIVE_LLM_PARALLEL": "1", "OPENLIVE_LLM_QUEUE_TARGET_MS": "100"}
    )
    client = client_for(server)
    health = f"{server.http_url}/healthz"
    long_reply = text_config(max_output_tokens=400, temperature=0.0)
    resumable = text_config(session_resumption=types.SessionResumptionConfig())
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=server.ca_cert)) as http:
        async with client.aio.live.connect(model=MODEL, config=resumable) as earlier:
            handle = await handle_after_one_turn(earlier)
        assert handle
        async with (
            client.aio.live.connect(model=MODEL, config=long_reply) as writer,
            client.aio.live.connect(model=MODEL, config=text_config()) as waiter,
        ):
            assert (await http.get(health)).status_code == 200
            essay = asyncio.create_task(answer(writer, ESSAY))
            await asyncio.sleep(0.5)  # the essay holds the one slot
            queued = asyncio.create_task(answer(waiter, "Say hello."))
            await wait_for_health(http, health, 503, within_s=10)
            assert (await http.get(health)).json() == {"status": "saturated"}

            with pytest.raises(errors.APIError) as raised:
                async with client.aio.live.connect(model=MODEL, config=text_config()) as late:
                    await answer(late, "A new session while the LLM is behind.")
            assert raised.value.code == 1011
            assert "Resource has been exhausted" in str(raised.value)

            # A user already here comes back: a resume is not a new session.
            back = text_config(session_resumption=types.SessionResumptionConfig(handle=handle))
            async with client.aio.live.connect(model=MODEL, config=back):
                pass

            assert (await essay).strip() and (await queued).strip()
        # Once no turn has waited past the target for the cooldown, new sessions are welcome.
        await wait_for_health(http, health, 200, within_s=15)
        async with client.aio.live.connect(model=MODEL, config=text_config()) as fresh:
            assert (await answer(fresh, "Hello again.")).strip()
