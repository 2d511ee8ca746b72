"""One WebM or Ogg stream sent in pieces (MediaRecorder style): decoded across messages.

A browser's ``MediaRecorder`` (and clients built on it) sends ``audio/webm`` or ``audio/ogg`` as
timeslices of *one* file: only the first piece has the container header, and pieces split
blocks and pages anywhere. So each piece cannot be decoded alone. Instead one demuxer per stream
runs in its own thread, reading from a pipe the pieces are written to; after each piece we wait
until it has used every byte (it asks for more) and return what it decoded. A block cut in two
comes out with the piece that completes it.
"""

from __future__ import annotations

import threading

import numpy as np

from .pcm import INPUT_RATE

# The first bytes of a stream: the EBML magic (WebM/Matroska) and an Ogg page with the
# beginning-of-stream flag. A piece without them continues the stream before it.
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
OGG_MAGIC = b"OggS"
OGG_BOS_FLAG = 0x02
# How long one piece may take to decode before the stream is declared broken.
PIECE_TIMEOUT_S = 10.0
# FFmpeg's demuxers skip what they cannot parse and resynchronise, so garbage after a good start
# yields nothing rather than an error. This many bytes with no audio out is not an audio stream
# (even a one-second Ogg page at 256 kbit/s is 32 KB).
MAX_BYTES_WITHOUT_AUDIO = 256 * 1024
# Probing reads ahead before the first frame comes out: keep that to the stream's header.
DEMUXER_OPTIONS = {"probesize": "32768", "analyzeduration": "0"}


class StreamError(Exception):
    pass


def starts_stream(container: str, data: bytes) -> bool:
    if container == "matroska":
        return data.startswith(EBML_MAGIC)
    return data.startswith(OGG_MAGIC) and len(data) > 5 and bool(data[5] & OGG_BOS_FLAG)


class _Pipe:
    """The bytes written so far, read by the demuxer thread; ``read`` blocks while empty."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._closed = False
        self.waiting = False  # the reader has used every byte and is asking for more
        self.done = False  # the demuxer thread has ended

    def read(self, size: int = -1) -> bytes:
        with self._cond:
            while not self._buffer and not self._closed:
                self.waiting = True
                self._cond.notify_all()
                self._cond.wait()
            self.waiting = False
            if size < 0:
                size = len(self._buffer)
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data

    def write(self, data: bytes) -> None:
        with self._cond:
            self._buffer += data
            self.waiting = False
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def finish(self) -> None:
        with self._cond:
            self.done = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until the reader has used everything written (or the thread ended)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.done or (self.waiting and not self._buffer), timeout
            )


class ContainerStream:
    """A WebM (``matroska``) or Ogg stream, fed piece by piece; mono float32 at 16 kHz out."""

    def __init__(self, container: str) -> None:
        self.container = container
        self._pipe = _Pipe()
        self._lock = threading.Lock()
        self._out: list[np.ndarray] = []
        self._errors: list[str] = []  # written by the thread
        self._bytes_without_audio = 0
        # The thread holds only the pipe and the output list, never this object, so a stream
        # nobody holds is collected and its close ends the thread.
        self._thread = threading.Thread(
            target=_demux,
            args=(container, self._pipe, self._out, self._lock, self._errors),
            name=f"decode-{container}",
            daemon=True,
        )
        self._thread.start()

    def feed(self, data: bytes) -> np.ndarray:
        self._pipe.write(data)
        if not self._pipe.wait_idle(PIECE_TIMEOUT_S):
            self.close()
            raise StreamError("Audio data could not be decoded in time.")
        samples = self._take()
        self._bytes_without_audio = 0 if len(samples) else self._bytes_without_audio + len(data)
        if self._bytes_without_audio > MAX_BYTES_WITHOUT_AUDIO:
            self.close()
            raise StreamError("Audio data could not be decoded: no audio in the stream.")
        return samples

    def finish(self) -> np.ndarray:
        """End of stream: what the decoder still held."""
        self.close()
        self._thread.join(PIECE_TIMEOUT_S)
        return self._take()

    def close(self) -> None:
        self._pipe.close()

    def _take(self) -> np.ndarray:
        if self._errors:
            raise StreamError(self._errors[0])
        with self._lock:
            pieces, self._out[:] = list(self._out), []
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(pieces).astype(np.float32, copy=False)

    def __del__(self) -> None:
        self._pipe.close()


def _demux(
    container: str, pipe: _Pipe, out: list[np.ndarray], lock: threading.Lock, errors: list[str]
) -> None:
    import av

    try:
        with av.open(pipe, mode="r", format=container, options=DEMUXER_OPTIONS) as source:
            if not source.streams.audio:
                raise StreamError("The audio data holds no audio stream.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=INPUT_RATE)
            for frame in source.decode(audio=0):
                converted = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
                with lock:
                    out.extend(converted)
            tail = [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
            with lock:
                out.extend(tail)
    except StreamError as error:
        errors.append(str(error))
    except Exception as error:  # PyAV raises many types (InvalidDataError, ValueError, ...)
        errors.append(f"Audio data could not be decoded: {type(error).__name__}.")
    finally:
        pipe.finish()
