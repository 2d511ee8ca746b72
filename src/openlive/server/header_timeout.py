"""A header timeout for uvicorn's HTTP protocol: a connection that has not sent a whole request
head (or a WebSocket upgrade) within ``header_timeout_s`` is closed. uvicorn has none, so a
slow-loris client that trickles header bytes would hold its connection for ever."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def with_header_timeout(timeout_s: float) -> type[asyncio.Protocol]:
    base: Any = AutoHTTPProtocol

    class HeaderTimeoutProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._header_timer = self.loop.call_later(timeout_s, self._header_timeout)

        def _header_timeout(self) -> None:
            transport = self.transport
            # A request began (cycle), or the connection became a WebSocket (a new protocol):
            # the head arrived in time.
            if self.cycle is not None or transport.is_closing():
                return
            try:
                upgraded = transport.get_protocol() is not self
            except AttributeError:  # a TLS transport already torn down
                return
            if not upgraded:
                transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._header_timer.cancel()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
