"""uvicorn's WebSocket protocol (websockets sans-I/O), hardened against peers that stop reading.

- **Back-pressure on reading.** The protocol answers every ping with a pong at once, and never
  stops reading while its write buffer is full: a client that floods pings and reads nothing
  grows the server's memory without end. Here reading pauses while the write buffer is above
  its high-water mark.
- **The connection cap holds for WebSockets.** uvicorn's ``limit_concurrency`` refuses only
  plain HTTP requests (an upgrade skips its check); past it the upgrade is refused with HTTP 503.
- **A close that cannot be flushed is an abort.** asyncio's ``transport.close()`` waits to flush
  the buffer first, and a peer that reads nothing never lets it: after a failed keepalive, or a
  close frame that waits more than ``CLOSE_FLUSH_S`` to be written, the transport is aborted so
  the connection (and the session behind it) really goes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

CLOSE_FLUSH_S = 5.0


class HardenedWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_blocked = False

    def handle_connect(self, event: Any) -> None:
        limit = self.config.limit_concurrency
        if limit is not None and len(self.connections) > limit:  # this one is counted already
            self.logger.warning("Exceeded concurrency limit (WebSocket).")
            self.handshake_complete = self.close_sent = True
            self.conn.send_response(self.conn.reject(503, "Service Unavailable"))
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().handle_connect(event)

    def pause_writing(self) -> None:
        super().pause_writing()
        self._write_blocked = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._write_blocked = False
        if not self.read_paused and not self.transport.is_closing():
            self.transport.resume_reading()

    async def receive(self) -> Any:
        message = await super().receive()
        if self._write_blocked and not self.transport.is_closing():
            self.transport.pause_reading()  # uvicorn resumed it; the buffer is still full
        return message

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self.transport.abort()

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and not self.writable.is_set():
            try:
                await asyncio.wait_for(self.writable.wait(), CLOSE_FLUSH_S)
            except TimeoutError:
                self.transport.abort()
                raise ClientDisconnected() from None
        await super().send(message)
