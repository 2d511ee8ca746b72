"""Audio blobs as clients declare them → float32 mono at 16 kHz.

Raw PCM (``audio/pcm``, any rate; no rate means 16 kHz) is the normal path and is resampled per
stream. Encoded formats (WAV, FLAC, Ogg/Opus, MP3, WebM, AAC/M4A) are decoded with FFmpeg through
PyAV, one blob a file, except WebM and Ogg: a blob that starts a stream opens a decoder that the
following blobs without a header continue (MediaRecorder timeslices, container_stream.py).
Anything else, or a blob that does not decode, is an ``AudioFormatError``: the session closes
with 1007.
"""

from __future__ import annotations

import io

import numpy as np

from .container_stream import ContainerStream, StreamError, starts_stream
from .pcm import INPUT_RATE, parse_mime, pcm16_to_float
from .resample import StreamResampler, resample

ENCODED_TYPES = {
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/flac",
    "audio/x-flac",
    "audio/ogg",
    "audio/opus",
    "audio/mp3",
    "audio/mpeg",
    "audio/mpga",
    "audio/webm",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/x-aac",
}
PCM_TYPES = {"audio/pcm", "audio/l16", "audio/raw", ""}
# Types whose blobs may be pieces of one stream, and the FFmpeg demuxer that reads it.
STREAMED_TYPES = {
    "audio/webm": "matroska",
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
}
MAX_RATE = 192_000
MIN_RATE = 4_000


DEFAULT_MAX_SECONDS = 60.0
DEFAULT_MAX_RESAMPLERS = 4


class AudioFormatError(Exception):
    pass


class AudioLimitError(AudioFormatError):
    """A blob holds more audio than one message may (a policy limit, not a malformed blob)."""


class AudioDecoder:
    """Per-session decoder: keeps one resampler per declared PCM rate (the latest
    ``max_resamplers`` rates), and refuses a blob of more than ``max_seconds`` of audio: PCM by
    its declared size before any work, encoded formats as they decode (a small FLAC of silence
    can hold hours)."""

    def __init__(
        self,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        max_resamplers: int = DEFAULT_MAX_RESAMPLERS,
    ) -> None:
        self._resamplers: dict[int, StreamResampler] = {}
        self._stream: ContainerStream | None = None
        self.max_seconds = max_seconds
        self._max_resamplers = max(1, max_resamplers)

    @staticmethod
    def is_encoded(mime_type: str) -> bool:
        return parse_mime(mime_type)[0] in ENCODED_TYPES

    def decode(self, data: bytes, mime_type: str) -> np.ndarray:
        base, rate = parse_mime(mime_type)
        if base in PCM_TYPES:
            rate = rate or INPUT_RATE
            if not MIN_RATE <= rate <= MAX_RATE:
                raise AudioFormatError(f"Unsupported audio sample rate {rate} in {mime_type!r}.")
            if len(data) / 2 / rate > self.max_seconds:
                raise _too_long(self.max_seconds)
            samples = pcm16_to_float(data)
            return self._resampler(rate).process(samples)
        container = STREAMED_TYPES.get(base)
        if container is not None:
            try:
                samples = self._decode_piece(container, data)
            except StreamError as error:
                self.close()
                raise AudioFormatError(str(error)) from None
            if len(samples) > self.max_seconds * INPUT_RATE:
                self.close()
                raise _too_long(self.max_seconds)
            return samples
        if base in ENCODED_TYPES:
            return decode_file(data, max_seconds=self.max_seconds)
        raise AudioFormatError(f"Unsupported audio MIME type {mime_type[:40]!r}.")

    def _resampler(self, rate: int) -> StreamResampler:
        resampler = self._resamplers.pop(rate, None)
        if resampler is None:
            resampler = StreamResampler(rate, INPUT_RATE)
            while len(self._resamplers) >= self._max_resamplers:
                del self._resamplers[next(iter(self._resamplers))]  # the least recently used
        self._resamplers[rate] = resampler  # last: the most recently used
        return resampler

    def _decode_piece(self, container: str, data: bytes) -> np.ndarray:
        if starts_stream(container, data):  # a new stream, or a whole file per blob
            tail = self._stream.finish() if self._stream is not None else None
            self._stream = ContainerStream(container)
            samples = self._stream.feed(data)
            return samples if tail is None or not len(tail) else np.concatenate([tail, samples])
        if self._stream is not None and self._stream.container == container:
            return self._stream.feed(data)
        # A piece with no stream to continue: it fails as a file.
        return decode_file(data, max_seconds=self.max_seconds)

    def close(self) -> None:
        """Ends the stream decoder's thread, if one runs."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()


def _too_long(max_seconds: float) -> AudioLimitError:
    return AudioLimitError(f"An audio message may hold at most {max_seconds:g} s of audio.")


def decode_file(data: bytes, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> np.ndarray:
    """Decode a complete encoded file (any container FFmpeg knows) to mono float32 at 16 kHz,
    stopping (AudioLimitError) as soon as it passes ``max_seconds``."""
    import av

    max_samples = max_seconds * INPUT_RATE
    total = 0

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioFormatError("The audio data holds no audio stream.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=INPUT_RATE)
            pieces: list[np.ndarray] = []
            for frame in container.decode(audio=0):
                for converted in resampler.resample(frame):
                    pieces.append(converted.to_ndarray().reshape(-1))
                    total += len(pieces[-1])
                if total > max_samples:
                    raise _too_long(max_seconds)
            for converted in resampler.resample(None):
                pieces.append(converted.to_ndarray().reshape(-1))
    except AudioFormatError:
        raise
    except Exception as error:  # PyAV raises many types (InvalidDataError, ValueError, ...)
        reason = f"Audio data could not be decoded: {type(error).__name__}."
        raise AudioFormatError(reason) from None
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(pieces).astype(np.float32, copy=False)


__all__ = ["AudioDecoder", "AudioFormatError", "AudioLimitError", "decode_file", "resample"]
