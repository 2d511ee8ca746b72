"""WebM and Ogg sent as pieces of one stream (MediaRecorder timeslices) decode across messages,
wherever the pieces are cut; whole files per message still work; bad pieces close with 1007."""

from __future__ import annotations

import gc
import itertools

import numpy as np
import pytest

from openlive.audio.decode import AudioDecoder, AudioFormatError, decode_file

from ..audio_containers import encode_opus

RATE = 48_000
FORMATS = [("webm", "audio/webm;codecs=opus"), ("ogg", "audio/ogg;codecs=opus")]


def tone_sweep(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.float32)


def encode(samples: np.ndarray, container: str) -> bytes:
    return encode_opus(samples, container, RATE)


def cut(data: bytes, seed: int, pieces: int) -> list[bytes]:
    """``data`` cut at random offsets (the first piece keeps at least the header's magic)."""
    rng = np.random.default_rng(seed)
    offsets = sorted({int(x) for x in rng.integers(8, len(data), pieces - 1)})
    bounds = [0, *offsets, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@pytest.mark.parametrize(("container", "mime"), FORMATS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pieces_cut_anywhere_decode_like_the_whole_file(container, mime, seed) -> None:
    data = encode(tone_sweep(3.0), container)
    whole = decode_file(data)
    decoder = AudioDecoder()
    outputs = [decoder.decode(piece, mime) for piece in cut(data, seed, 40)]
    decoder.close()
    streamed = np.concatenate(outputs)
    # Everything but the resampler's last few samples comes out as the pieces arrive ...
    assert len(whole) - 64 <= len(streamed) <= len(whole)
    np.testing.assert_allclose(streamed, whole[: len(streamed)], atol=1e-4)
    # ... and audio comes out during the stream, not only at its end.
    assert sum(len(o) > 0 for o in outputs) > 10


@pytest.mark.parametrize(("container", "mime"), FORMATS)
def test_a_whole_file_per_message_still_decodes(container, mime) -> None:
    decoder = AudioDecoder()
    files = [encode(tone_sweep(1.0), container) for _ in range(3)]
    total = sum(len(decoder.decode(data, mime)) for data in files)
    total += len(decoder._stream.finish()) if decoder._stream else 0
    assert abs(total - 3 * 16_000) <= 3 * 64


def test_a_piece_with_no_stream_before_it_is_refused() -> None:
    data = encode(tone_sweep(1.0), "webm")
    with pytest.raises(AudioFormatError, match="could not be decoded"):
        AudioDecoder().decode(data[len(data) // 2 :], "audio/webm")


@pytest.mark.parametrize(("container", "mime"), FORMATS)
def test_garbage_after_a_good_start_is_refused(container, mime) -> None:
    data = encode(tone_sweep(2.0), container)
    decoder = AudioDecoder()
    decoder.decode(data[:4000], mime)
    garbage = np.random.default_rng(0).integers(0, 256, 10_000, dtype=np.uint8).tobytes()
    with pytest.raises(AudioFormatError, match="could not be decoded"):
        for _ in range(40):  # FFmpeg skips garbage; a stream that yields no audio is refused
            decoder.decode(garbage, mime)
    assert decoder._stream is None


def test_closing_ends_the_decoder_thread() -> None:
    data = encode(tone_sweep(0.5), "webm")
    decoders = [AudioDecoder() for _ in range(5)]
    for decoder in decoders:
        decoder.decode(data[:2000], "audio/webm")
    threads = [decoder._stream._thread for decoder in decoders if decoder._stream]
    assert len(threads) == 5 and all(thread.is_alive() for thread in threads)
    for decoder in decoders:
        decoder.close()
    for thread in threads:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads)


def test_a_forgotten_decoder_ends_its_thread() -> None:
    decoder = AudioDecoder()
    decoder.decode(encode(tone_sweep(0.5), "webm")[:2000], "audio/webm")
    assert decoder._stream is not None
    thread = decoder._stream._thread
    del decoder
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
