"""``LiveSession``: one open conversation over one WebSocket.

Sending methods mirror Firebase's ``LiveSession`` (``send``, ``send_audio_realtime``,
``send_text_realtime``, ``send_video_realtime``, ``send_function_responses``); ``receive()``
yields typed events until the session ends. A close by the server surfaces as a
``LiveConnectionClosed`` subclass carrying the close code and reason, from whichever call meets it
first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .. import __version__
from .errors import LiveConnectionClosed, LiveConnectionError, LiveError, closed_error
from .types import INPUT_RATE, Blob, FunctionResponse, LiveMessage, TurnComplete
from .wire import ContentLike, Json, blob, client_content, dumps, parse_server_message
from .wire import realtime_input as realtime
from .wire import tool_response as tool_response_message

if TYPE_CHECKING:
    from .audio import AudioInput, AudioOutput
    from .conversation import AudioConversation, FunctionCallHandler, MessageHandler
    from .model import LiveModel

log = logging.getLogger("openlive.client")

MAX_MESSAGE_BYTES = 16 * 2**20  # the hosted service stays far below 1 MiB; be generous anyway
_NORMAL_CLOSURE = 1000
_ABNORMAL_CLOSURE = 1006


class LiveSession:
    def __init__(self, websocket: ClientConnection, model: LiveModel) -> None:
        self.model = model
        self.session_id: str | None = None
        self._ws = websocket
        self._pending: deque[LiveMessage] = deque()
        self._error: LiveConnectionClosed | None = None
        self._setup_complete = False
        self._ended = False
        self._closing = False
        self._conversation: AudioConversation | None = None

    async def __aenter__(self) -> LiveSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- sending ------------------------------------------------------------------------------

    async def send(
        self, content: ContentLike | Iterable[ContentLike], turn_complete: bool = True
    ) -> None:
        """Add user turns (text, or ``Content`` JSON) to the conversation; by default the model
        answers them. Sent while the model speaks, this interrupts it."""
        turns = content if isinstance(content, str | Mapping) else list(content)
        await self._send(client_content(turns, turn_complete))

    async def send_text_realtime(self, text: str) -> None:
        """Typed text as realtime input: the model answers it like a spoken turn."""
        await self._send(realtime(text=text))

    async def send_audio_realtime(self, audio: bytes | Blob, rate: int = INPUT_RATE) -> None:
        """Microphone audio: 16-bit little-endian mono PCM at ``rate`` Hz (16 kHz preferred)."""
        media = audio if isinstance(audio, Blob) else Blob(audio, f"audio/pcm;rate={rate}")
        await self._send(realtime(audio=blob(media)))

    async def send_video_realtime(self, image: bytes | Blob, mime_type: str = "image/jpeg") -> None:
        """One camera frame (JPEG or PNG); about one a second is plenty."""
        media = image if isinstance(image, Blob) else Blob(image, mime_type)
        await self._send(realtime(video=blob(media)))

    async def send_audio_stream_end(self) -> None:
        """The microphone was closed or paused: the server flushes what it buffered."""
        await self._send(realtime(audioStreamEnd=True))

    async def send_activity_start(self) -> None:
        """Manual voice activity (automatic detection disabled): the user starts speaking."""
        await self._send(realtime(activityStart={}))

    async def send_activity_end(self) -> None:
        await self._send(realtime(activityEnd={}))

    async def send_function_responses(
        self, responses: Iterable[FunctionResponse | Mapping[str, Any]]
    ) -> None:
        """Answer a ``ToolCall``: one response per call, each with the call's ``id``."""
        await self._send(tool_response_message(responses))

    async def _send(self, message: Json) -> None:
        if self._error is not None:
            raise self._error
        try:
            await self._ws.send(dumps(message))
        except ConnectionClosed as closed:
            raise self._closed_by(closed) or LiveError("the session is closed") from None

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self) -> AsyncIterator[LiveMessage]:
        """Every event the server sends, until the session is closed (by either side)."""
        self._check_receiver()
        while (message := await self._next()) is not None:
            yield message

    async def receive_turn(self) -> AsyncIterator[LiveMessage]:
        """Events up to and including the next ``TurnComplete``."""
        self._check_receiver()
        while (message := await self._next()) is not None:
            yield message
            if isinstance(message, TurnComplete):
                return

    async def _next(self) -> LiveMessage | None:
        while not self._pending:
            if self._error is not None:
                raise self._error
            if self._ended:
                return None
            try:
                frame = await self._ws.recv()
            except ConnectionClosed as closed:
                if error := self._closed_by(closed):
                    raise error from None
                return None
            self._feed(frame)
        return self._pending.popleft()

    def _feed(self, frame: str | bytes) -> None:
        try:
            payload = json.loads(frame)
        except ValueError:
            log.warning("ignoring a frame that is not JSON (%d bytes)", len(frame))
            return
        if not isinstance(payload, dict):
            log.warning("ignoring a frame that is not a JSON object")
            return
        setup_complete, events = parse_server_message(payload)
        if setup_complete is not None:
            self._setup_complete = True
            self.session_id = setup_complete.session_id
        self._pending.extend(events)

    def _closed_by(self, closed: ConnectionClosed) -> LiveConnectionClosed | None:
        """Record how the connection ended; the error to raise, or ``None`` for a clean end."""
        self._ended = True
        if self._error is None and not self._closing:
            frame = closed.rcvd
            if frame is None:
                self._error = closed_error(_ABNORMAL_CLOSURE, "connection lost")
            elif frame.code != _NORMAL_CLOSURE:
                self._error = closed_error(frame.code, frame.reason)
        return self._error

    def _check_receiver(self) -> None:
        if self._conversation is not None and not self._conversation.done:
            raise LiveError(
                "an audio conversation is reading this session; use its on_message callback"
            )

    async def _wait_for_setup_complete(self) -> None:
        """Read until ``setupComplete``; anything before it is kept for ``receive()``."""
        while not self._setup_complete:
            try:
                frame = await self._ws.recv()
            except ConnectionClosed as closed:
                raise self._closed_by(closed) or closed_error(_NORMAL_CLOSURE, "") from None
            self._feed(frame)

    # -- audio conversation -------------------------------------------------------------------

    async def start_audio_conversation(
        self,
        function_call_handler: FunctionCallHandler | None = None,
        input_device: AudioInput | None = None,
        output_device: AudioOutput | None = None,
        on_message: MessageHandler | None = None,
    ) -> AudioConversation:
        """Talk: stream ``input_device`` (default: the microphone) to the model and play its
        audio on ``output_device`` (default: the speakers), flushing playback on interruption.

        ``function_call_handler(call) -> dict`` (sync or async) answers tool calls;
        ``on_message(message)`` sees every event (transcripts, turn ends). The conversation
        reads the session, so ``receive()`` is unavailable until it stops.
        """
        from .conversation import AudioConversation

        if self._conversation is not None and not self._conversation.done:
            raise LiveError("an audio conversation is already running on this session")
        if input_device is None or output_device is None:
            from .devices import Microphone, Speaker

            input_device = input_device or Microphone()
            try:
                output_device = output_device or Speaker()
            except BaseException:
                await input_device.aclose()
                raise
        self._conversation = AudioConversation(
            self, input_device, output_device, function_call_handler, on_message
        )
        self._conversation.start()
        return self._conversation

    async def stop_audio_conversation(self) -> None:
        """Stop streaming and playing; the session stays open."""
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            await conversation.stop()

    # -- closing ------------------------------------------------------------------------------

    async def close(self) -> None:
        await self.stop_audio_conversation()
        self._closing = True
        await self._ws.close()
        self._ended = True

    @property
    def closed(self) -> bool:
        return self._ended or self._closing


class Connecting:
    """``await model.connect()`` or ``async with model.connect() as session``."""

    def __init__(self, model: LiveModel) -> None:
        self._model = model
        self._session: LiveSession | None = None

    def __await__(self) -> Generator[Any, None, LiveSession]:
        return open_session(self._model).__await__()

    async def __aenter__(self) -> LiveSession:
        self._session = await open_session(self._model)
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()


async def open_session(model: LiveModel) -> LiveSession:
    url = model.endpoint()
    shown = public_url(model.url)
    try:
        websocket = await websockets.connect(
            url,
            additional_headers=model.request_headers(),
            user_agent_header=f"openlive-client/{__version__}",
            ssl=model.ssl_context(),
            open_timeout=model.open_timeout,
            max_size=MAX_MESSAGE_BYTES,
        )
    except InvalidStatus as error:
        status = error.response.status_code
        raise LiveConnectionError(shown, f"HTTP {status} (not a Live endpoint?)") from error
    except (OSError, TimeoutError, InvalidHandshake) as error:
        raise LiveConnectionError(shown, describe_connect_error(error)) from error

    session = LiveSession(websocket, model)
    try:
        await session._send(model.setup_message())
        async with asyncio.timeout(model.open_timeout):
            await session._wait_for_setup_complete()
    except TimeoutError:
        await websocket.close()
        raise LiveConnectionError(shown, "no setupComplete from the server") from None
    except BaseException:
        with contextlib.suppress(Exception):
            await websocket.close()
        raise
    return session


def public_url(url: str) -> str:
    """``url`` without its query string, where keys and tokens travel."""
    scheme, netloc, path, _, _ = urlsplit(url)
    return urlunsplit((scheme, netloc, path, "", ""))


def describe_connect_error(error: BaseException) -> str:
    match error:
        case ConnectionRefusedError():
            return "connection refused"
        case socket.gaierror():
            return "unknown host"
        case ssl.SSLCertVerificationError():
            return (
                f"TLS certificate not trusted ({error.verify_message}); pass cafile= with the "
                "server's CA certificate"
            )
        case ssl.SSLError():
            return f"TLS failed ({error.reason or error}); is it a wss:// server?"
        case TimeoutError():
            return "timed out"
        case _:
            return str(error) or type(error).__name__
