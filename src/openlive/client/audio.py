"""Audio devices as small interfaces, and file-backed devices for machines without sound cards.

An ``AudioInput`` is an async iterable of 16-bit mono PCM chunks at ``sample_rate``; an
``AudioOutput`` plays 16-bit mono PCM written to it and can drop what it has not played yet
(``flush``, on barge-in). ``devices.Microphone`` / ``devices.Speaker`` are the real ones;
``WavFileInput`` / ``WavFileOutput`` behave the same in real time, with WAV files instead.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .types import OUTPUT_RATE

CHUNK_S = 0.1  # a microphone delivers 100 ms at a time


@runtime_checkable
class AudioInput(Protocol):
    sample_rate: int

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


@runtime_checkable
class AudioOutput(Protocol):
    sample_rate: int

    def write(self, pcm: bytes) -> None:
        """Queue ``pcm`` for playback after what is already queued; never blocks."""

    def flush(self) -> None:
        """Drop everything queued but not played yet."""

    def close(self) -> None: ...


class WavFileInput:
    """A WAV file as a microphone: 100 ms chunks at real-time pace, then silence.

    The silence matters: a server finds the end of a turn in the audio that follows speech, as
    it would from a live microphone. With ``realtime=False`` the file is sent as fast as the
    connection takes it (the silence after it still runs in real time). ``trailing_silence``
    limits the silence, in seconds (``None``: until closed); the iteration then ends.
    """

    def __init__(
        self, path: str | Path, *, realtime: bool = True, trailing_silence: float | None = None
    ) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.trailing_silence = trailing_silence
        self.sample_rate, self.pcm = read_wav_mono16(self.path)
        self.finished_at: float | None = None
        """``time.monotonic()`` when the last chunk of the file was delivered."""
        self._closed = False

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        size = round(self.sample_rate * CHUNK_S) * 2
        pieces = [self.pcm[i : i + size] for i in range(0, len(self.pcm), size)]
        clock = time.monotonic()
        for piece in pieces:
            if self._closed:
                return
            yield piece
            if self.realtime:
                clock += len(piece) / 2 / self.sample_rate
                await asyncio.sleep(max(0.0, clock - time.monotonic()))
        self.finished_at = clock = time.monotonic()
        silence, sent = bytes(size), 0.0
        while not self._closed and (self.trailing_silence is None or sent < self.trailing_silence):
            yield silence
            sent += CHUNK_S
            clock += CHUNK_S
            await asyncio.sleep(max(0.0, clock - time.monotonic()))

    def close(self) -> None:
        self._closed = True


class WavFileOutput:
    """A speaker that records what it plays into a WAV file (16-bit mono, 24 kHz).

    Playback is simulated on a real-time clock: audio written while earlier audio is still
    "playing" waits its turn, and ``flush()`` keeps only what was played by then — exactly what a
    listener would have heard when they interrupted. ``close()`` lets queued audio play out.
    """

    def __init__(self, path: str | Path, sample_rate: int = OUTPUT_RATE) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.received_bytes = 0
        self.dropped_bytes = 0
        self._file = wave.open(str(self.path), "wb")  # noqa: SIM115 (closed in close())
        self._file.setnchannels(1)
        self._file.setsampwidth(2)
        self._file.setframerate(sample_rate)
        self._queue: deque[tuple[float, bytes]] = deque()  # (play start, pcm), in order
        self._queue_end = 0.0
        self._played_bytes = 0

    def write(self, pcm: bytes, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._play_until(now)
        start = max(now, self._queue_end)
        self._queue.append((start, pcm))
        self._queue_end = start + self._seconds(len(pcm))
        self.received_bytes += len(pcm)

    def flush(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._play_until(now)
        if self._queue:
            start, pcm = self._queue.popleft()
            played = min(len(pcm), max(0, int((now - start) * self.sample_rate)) * 2)
            self._record(pcm[:played])
            self.dropped_bytes += len(pcm) - played
        while self._queue:
            self.dropped_bytes += len(self._queue.popleft()[1])
        self._queue_end = now

    def is_playing(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) < self._queue_end

    def close(self) -> None:
        if self._file is None:
            return
        while self._queue:
            self._record(self._queue.popleft()[1])
        self._file.close()
        self._file = None  # type: ignore[assignment]

    @property
    def received_seconds(self) -> float:
        return self._seconds(self.received_bytes)

    @property
    def played_seconds(self) -> float:
        """How much has been played (recorded into the file) by now, in whole chunks."""
        if self._file is not None:
            self._play_until(time.monotonic())
        return self._seconds(self._played_bytes)

    @property
    def dropped_seconds(self) -> float:
        return self._seconds(self.dropped_bytes)

    def _play_until(self, now: float) -> None:
        while self._queue and self._queue[0][0] + self._seconds(len(self._queue[0][1])) <= now:
            self._record(self._queue.popleft()[1])

    def _record(self, pcm: bytes) -> None:
        self._file.writeframes(pcm)
        self._played_bytes += len(pcm)

    def _seconds(self, size: int) -> float:
        return size / 2 / self.sample_rate


def read_wav_mono16(path: Path) -> tuple[int, bytes]:
    """A PCM WAV file as (rate, 16-bit little-endian mono PCM); channels are averaged."""
    with wave.open(str(path), "rb") as file:
        rate, width, channels = file.getframerate(), file.getsampwidth(), file.getnchannels()
        data = file.readframes(file.getnframes())
    if width == 1:
        samples = (np.frombuffer(data, np.uint8).astype(np.float64) - 128) / 128
    elif width in (2, 3, 4):
        if width == 3:  # widen 24-bit samples to 32-bit ones
            raw = np.frombuffer(data, np.uint8).reshape(-1, 3)
            data = np.pad(raw, ((0, 0), (1, 0))).tobytes()
            width = 4
        samples = np.frombuffer(data, f"<i{width}").astype(np.float64) / 2 ** (8 * width - 1)
    else:
        raise ValueError(f"{path}: unsupported sample width {width * 8} bits")
    mono = samples.reshape(-1, channels).mean(axis=1)
    return rate, (np.clip(mono, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()
