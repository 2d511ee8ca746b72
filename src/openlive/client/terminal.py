"""What ``openlive chat`` and ``openlive talk`` share: stdin lines, transcripts, error wording."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from .errors import (
    AudioDeviceError,
    InvalidRequestError,
    LiveConnectionClosed,
    LiveConnectionError,
    LiveError,
    NotSupportedError,
)
from .types import Interrupted, LiveMessage, Transcription, TurnComplete


def explain(error: LiveError, *, wants_audio: bool = False) -> str:
    """One line a user can act on."""
    match error:
        case LiveConnectionError(detail="connection refused"):
            return (
                f"cannot reach openlive at {error.url}: connection refused — start it with "
                "`openlive serve`"
            )
        case LiveConnectionError():
            return f"cannot reach openlive at {error.url}: {error.detail}"
        case InvalidRequestError() if "API key" in error.reason:
            return f"the server refused the API key ({error.code}: {error.reason}); pass --api-key"
        case NotSupportedError() if wants_audio:
            return (
                f"the server cannot talk ({error.code}: {error.reason}); start it with its voice "
                "models (`openlive serve`, without --no-speech)"
            )
        case LiveConnectionClosed():
            return f"the server closed the session: {error.code} {error.reason}".rstrip()
        case AudioDeviceError():
            return f"{error} — without audio devices, use --input q.wav --output reply.wav"
        case _:
            return str(error)


class StdinLines:
    """Lines from stdin without blocking the event loop (the WebSocket must keep answering
    pings while the user types). A daemon thread reads, so Ctrl-C never waits for Enter."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdin
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, name="stdin", daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self._stream.readline():
                self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        finally:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def next(self) -> str | None:
        """The next line without its newline; ``None`` at end of input."""
        line = await self._queue.get()
        return None if line is None else line.rstrip("\r\n")


class TranscriptPrinter:
    """Live transcripts as ``you: ...`` / ``model: ...`` lines, printed as the pieces arrive."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._speaker: str | None = None

    def show(self, message: LiveMessage) -> None:
        match message:
            case Transcription(source=source, text=text, finished=finished):
                who = "you" if source == "input" else "model"
                if who != self._speaker:
                    self._end_line()
                    self.out.write(f"{who}: ")
                    self._speaker = who
                    text = text.lstrip()
                self.out.write(text)
                if finished:
                    self._end_line()
            case Interrupted():
                if self._speaker == "model":
                    self.out.write(" [interrupted]")
                self._end_line()
            case TurnComplete():
                self._end_line()
        self.out.flush()

    def _end_line(self) -> None:
        if self._speaker is not None:
            self.out.write("\n")
            self._speaker = None
