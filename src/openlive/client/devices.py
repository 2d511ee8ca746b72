"""The microphone and the speakers, through PortAudio (``sounddevice``, imported on first use).

Capture is 16 kHz mono 16-bit in 100 ms blocks; playback is 24 kHz mono 16-bit, fed from a
buffer that ``flush()`` empties at once when the user interrupts. Use headphones: without echo
cancellation the microphone hears the reply and the server takes it for a barge-in.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from .audio import CHUNK_S
from .errors import AudioDeviceError
from .types import INPUT_RATE, OUTPUT_RATE

PORTAUDIO_MISSING = (
    "PortAudio is not installed, so there is no microphone or speaker (Debian/Ubuntu: "
    "`apt install libportaudio2`; macOS: `brew install portaudio`)"
)

Device = int | str | None
"""A PortAudio device index or a substring of its name; ``None``: the system default."""


def sounddevice() -> ModuleType:
    try:
        import sounddevice as sd
    except OSError as error:  # the module is there, the PortAudio library is not
        raise AudioDeviceError(PORTAUDIO_MISSING) from error
    except ImportError as error:
        raise AudioDeviceError(f"{PORTAUDIO_MISSING} (sounddevice is missing)") from error
    return sd


def _open(kind: str, factory: Any, **options: Any) -> Any:
    sd = sounddevice()
    try:
        return factory(sd)(**options)
    except (sd.PortAudioError, ValueError) as error:
        device = options.get("device")
        which = f" {device!r}" if device is not None else ""
        raise AudioDeviceError(f"no usable {kind}{which}: {error}") from error


class Microphone:
    """The default (or a chosen) input device as an ``AudioInput``."""

    def __init__(self, device: Device = None, sample_rate: int = INPUT_RATE) -> None:
        self.sample_rate = sample_rate
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stream = _open(
            "microphone",
            lambda sd: sd.RawInputStream,
            device=device,
            samplerate=sample_rate,
            channels=1,
            dtype="int16",
            blocksize=round(sample_rate * CHUNK_S),
            callback=self._captured,
        )

    def _captured(self, data: Any, frames: int, when: Any, status: Any) -> None:
        if self._loop is not None:  # PortAudio's thread → the event loop
            self._loop.call_soon_threadsafe(self._queue.put_nowait, bytes(data))

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        self._loop = asyncio.get_running_loop()
        self._stream.start()
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)


class Speaker:
    """The default (or a chosen) output device as an ``AudioOutput``."""

    def __init__(self, device: Device = None, sample_rate: int = OUTPUT_RATE) -> None:
        self.sample_rate = sample_rate
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._stream = _open(
            "speaker",
            lambda sd: sd.RawOutputStream,
            device=device,
            samplerate=sample_rate,
            channels=1,
            dtype="int16",
            callback=self._play,
        )
        self._stream.start()

    def _play(self, out: Any, frames: int, when: Any, status: Any) -> None:
        wanted = len(out)
        with self._lock:
            chunk = bytes(self._buffer[:wanted])
            del self._buffer[:wanted]
        out[: len(chunk)] = chunk
        out[len(chunk) :] = bytes(wanted - len(chunk))

    def write(self, pcm: bytes) -> None:
        with self._lock:
            self._buffer.extend(pcm)

    def flush(self) -> None:
        with self._lock:
            self._buffer.clear()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
