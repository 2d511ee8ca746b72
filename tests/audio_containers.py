"""Compressed audio as a browser's recorder makes it: Opus in WebM or Ogg, cut into pieces."""

from __future__ import annotations

import io

import av
import numpy as np

OPUS_RATE = 48_000
OPUS_FRAME = 960  # 20 ms at 48 kHz


def encode_opus(samples: np.ndarray, container: str, rate: int = OPUS_RATE) -> bytes:
    """Mono float32 ``samples`` at ``rate`` as an Opus file in ``container`` (webm or ogg)."""
    buffer = io.BytesIO()
    # Small Ogg pages, as a live recorder writes them (FFmpeg's default is one a second).
    options = {"page_duration": "60000"} if container == "ogg" else {}
    with av.open(buffer, mode="w", format=container, options=options) as output:
        stream = output.add_stream("libopus", rate=rate, layout="mono")
        for start in range(0, len(samples), OPUS_FRAME):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + OPUS_FRAME].astype(np.float32),
                format="flt",
                layout="mono",
            )
            frame.rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def cut_evenly(data: bytes, pieces: int) -> list[bytes]:
    """``data`` in ``pieces`` pieces of (nearly) equal size, cut with no regard for blocks."""
    size = -(-len(data) // pieces)
    return [data[i : i + size] for i in range(0, len(data), size)]
