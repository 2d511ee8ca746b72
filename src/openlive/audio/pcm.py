"""16-bit little-endian PCM ↔ float32 samples, the MIME types that describe them, and where to
cut speech between words."""

from __future__ import annotations

import re

import numpy as np

INPUT_RATE = 16_000
OUTPUT_RATE = 24_000
OUTPUT_MIME = f"audio/pcm;rate={OUTPUT_RATE}"

_RATE = re.compile(r"rate\s*=\s*(\d+)", re.IGNORECASE)


def pcm16_to_float(data: bytes) -> np.ndarray:
    if len(data) % 2:
        data = data[:-1]  # a torn sample; dropping one byte beats shifting every later sample
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def parse_mime(mime_type: str) -> tuple[str, int | None]:
    """``audio/pcm;rate=8000`` → (``audio/pcm``, 8000). No rate → None (16 kHz implied for PCM)."""
    base = mime_type.split(";", 1)[0].strip().lower()
    match = _RATE.search(mime_type)
    return base, int(match.group(1)) if match else None


def duration_s(samples: int, rate: int) -> float:
    return samples / rate


def quietest_cut(samples: np.ndarray, rate: int, *, search_s: float, frame_s: float = 0.1) -> int:
    """Offset of the middle of the quietest ``frame_s`` in the last ``search_s`` of ``samples``:
    cutting a long utterance there is least likely to split a word."""
    frame = int(frame_s * rate)
    search_start = max(0, len(samples) - int(search_s * rate))
    tail = samples[search_start:]
    if len(tail) < frame:
        return len(samples)
    frames = tail[: len(tail) // frame * frame].reshape(-1, frame)
    quietest = int(np.argmin((frames.astype(np.float64) ** 2).mean(axis=1)))
    return search_start + quietest * frame + frame // 2
