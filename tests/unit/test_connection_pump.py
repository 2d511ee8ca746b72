"""The connection's reader and writer pair: however they end, every outcome is retrieved.

A scripted WebSocket (not a socket: the moment two failures land in one loop iteration cannot be
arranged through a real one reliably) makes the client leave while a reply streams, so the
receive and the send fail together; asyncio would then log "Task exception was never retrieved"
for whichever failure the connection did not look at.
"""

from __future__ import annotations

import asyncio
import gc
from types import SimpleNamespace
from typing import Any

import pytest

from openlive.protocol.server_messages import ServerMessage
from openlive.server.connection import Connection, _Disconnected
from openlive.session.outbox import Close, Outbox
from openlive.settings import Settings


class LeavingClient:
    """A WebSocket whose peer is gone: the next receive says so and every send fails."""

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"type": "websocket.disconnect", "code": 1006}

    async def send_bytes(self, data: bytes) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("Cannot call send once a close message has been sent.")


def connection(websocket: object, send_timeout_s: float = 30.0) -> Connection:
    settings = Settings(max_message_bytes=1 << 20, send_timeout_s=send_timeout_s)
    closes = SimpleNamespace(labels=lambda **_: SimpleNamespace(inc=lambda: None))
    runtime = SimpleNamespace(settings=settings, metrics=SimpleNamespace(closes=closes))
    return Connection(websocket, runtime)  # type: ignore[arg-type]


@pytest.fixture
async def unhandled() -> Any:
    """What the event loop's exception handler is told about during the test."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    yield reported
    gc.collect()  # unretrieved task exceptions are reported when the task is collected
    loop.set_exception_handler(previous)


async def test_a_client_leaving_mid_send_leaves_no_unretrieved_exception(
    unhandled: list[dict[str, Any]],
) -> None:
    for _ in range(20):
        session = SimpleNamespace(outbox=Outbox())
        session.outbox.put(ServerMessage(setup_complete={}))
        with pytest.raises(_Disconnected):
            await connection(LeavingClient())._pump(session)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    gc.collect()
    assert [context["message"] for context in unhandled] == []


async def test_a_cancelled_connection_retrieves_both_tasks(
    unhandled: list[dict[str, Any]],
) -> None:
    class Silent(LeavingClient):
        async def receive(self) -> dict[str, Any]:
            await asyncio.sleep(3600)
            return {}

    session = SimpleNamespace(outbox=Outbox())
    pump = asyncio.create_task(connection(Silent())._pump(session))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    session.outbox.put(ServerMessage(setup_complete={}))  # the writer fails while we cancel
    pump.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pump
    await asyncio.sleep(0)
    gc.collect()
    assert [context["message"] for context in unhandled] == []


class StalledReader:
    """A peer that stays connected and stops reading: every send (close included) waits, as
    uvicorn's does once the socket buffer is full."""

    client = None

    def __init__(self) -> None:
        self.sends = 0

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    async def send_bytes(self, data: bytes) -> None:
        self.sends += 1
        await asyncio.sleep(3600)

    async def close(self, code: int, reason: str) -> None:
        await asyncio.sleep(3600)


async def test_a_client_that_stops_reading_is_let_go(unhandled: list[dict[str, Any]]) -> None:
    peer = StalledReader()
    session = SimpleNamespace(outbox=Outbox())
    session.outbox.put(ServerMessage(setup_complete={}))
    with pytest.raises(_Disconnected):
        await asyncio.wait_for(connection(peer, send_timeout_s=0.05)._pump(session), 10)  # type: ignore[arg-type]
    assert peer.sends == 1


async def test_a_full_outbox_turns_into_a_policy_close() -> None:
    outbox = Outbox(max_items=3)
    for _ in range(5):
        outbox.put(ServerMessage(setup_complete={}))
    item = await outbox.get()
    assert isinstance(item, Close)
    assert item.code == 1008
