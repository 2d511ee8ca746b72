"""A raw WebSocket client for what no official client will send: broken frames, odd paths."""

from __future__ import annotations

import json
import ssl
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from .servers import ServerProcess

GEMINI_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
TEXT_SETUP = {
    "setup": {
        "model": "models/x",
        "generationConfig": {"responseModalities": ["TEXT"], "maxOutputTokens": 30},
    }
}


def connect(server: ServerProcess, path: str = GEMINI_PATH, **kwargs: Any):
    if server.tls:
        kwargs.setdefault("ssl", ssl.create_default_context(cafile=server.ca_cert))
    return websockets.connect(f"{server.ws_url}{path}", max_size=2**20, **kwargs)


async def recv_json(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    import asyncio

    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, bytes), "server messages must be binary frames"
    return json.loads(frame)


async def close_of(ws: ClientConnection, timeout: float = 30) -> tuple[int, str]:
    """Read until the server closes; return its close code and reason."""
    import asyncio

    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server must send a close frame"
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("unreachable")


async def receive_until_turn_complete(ws: ClientConnection) -> list[dict[str, Any]]:
    messages = []
    while True:
        message = await recv_json(ws)
        messages.append(message)
        if message.get("serverContent", {}).get("turnComplete"):
            return messages
