"""What can go wrong talking to a Live server, as exceptions a caller can tell apart.

The protocol reports every error by closing the WebSocket with a code and a short reason
(docs/protocol.md §7), so the close code decides the exception class: 1007 for a bad request or a
bad key, 1008 for an unknown model or an operation the server does not offer, 1011 for a failure
inside the server.
"""

from __future__ import annotations


class LiveError(Exception):
    """Base class of every error raised by ``openlive.client``."""


class LiveConnectionError(LiveError):
    """The server could not be reached at all: refused, unresolvable, TLS, HTTP refusal."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"cannot reach {url}: {detail}")


class LiveConnectionClosed(LiveError):
    """The server closed the session (or the connection dropped: code 1006)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code} {reason}".rstrip())


class InvalidRequestError(LiveConnectionClosed):
    """1007: the server refused what was sent (a bad setup, bad data, a bad API key)."""


class NotSupportedError(LiveConnectionClosed):
    """1008: unknown model, or an operation this server does not offer (e.g. audio on a
    text-only server)."""


class ServerError(LiveConnectionClosed):
    """1011: the server failed internally."""


class AudioDeviceError(LiveError):
    """No usable microphone or speaker: PortAudio missing, no such device, device busy."""


_BY_CODE: dict[int, type[LiveConnectionClosed]] = {
    1007: InvalidRequestError,
    1008: NotSupportedError,
    1011: ServerError,
}


def closed_error(code: int, reason: str) -> LiveConnectionClosed:
    """The exception for a close with ``code`` and ``reason``."""
    return _BY_CODE.get(code, LiveConnectionClosed)(code, reason)
