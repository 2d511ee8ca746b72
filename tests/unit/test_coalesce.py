"""Tiny PCM blobs (Firebase Web: 43 samples each) are held until 20 ms, in order, never lost."""

from __future__ import annotations

from openlive.audio.coalesce import PcmCoalescer


def test_render_quanta_come_out_as_20_ms_chunks_in_order() -> None:
    coalescer = PcmCoalescer(20)
    blobs = [bytes([i]) * 86 for i in range(20)]  # 43 samples each, 16 kHz
    out = [chunk for blob in blobs for chunk in coalescer.add(blob, "audio/pcm")]
    out += coalescer.flush()
    assert b"".join(data for data, _ in out) == b"".join(blobs)
    assert all(mime == "audio/pcm" for _, mime in out)
    assert [len(data) for data, _ in out[:-1]] == [688, 688]  # 8 blobs: the first ≥ 640 bytes
    assert coalescer.flush() == []


def test_the_chunk_size_follows_the_declared_rate() -> None:
    coalescer = PcmCoalescer(20)
    assert coalescer.add(bytes(1900), "audio/pcm;rate=48000") == []
    [(data, mime)] = coalescer.add(bytes(20), "audio/pcm;rate=48000")
    assert (len(data), mime) == (1920, "audio/pcm;rate=48000")


def test_a_new_type_flushes_what_is_held_first() -> None:
    coalescer = PcmCoalescer(20)
    assert coalescer.add(b"a" * 100, "audio/pcm") == []
    assert coalescer.add(b"b" * 100, "audio/pcm;rate=8000") == [(b"a" * 100, "audio/pcm")]
    assert coalescer.add(b"webm", "audio/webm") == [
        (b"b" * 100, "audio/pcm;rate=8000"),
        (b"webm", "audio/webm"),
    ]


def test_chunks_already_large_enough_pass_at_once() -> None:
    coalescer = PcmCoalescer(20)
    assert coalescer.add(bytes(640), "audio/pcm;rate=16000") == [
        (bytes(640), "audio/pcm;rate=16000")
    ]


def test_off_and_refused_rates_are_not_held() -> None:
    assert PcmCoalescer(0).add(b"x" * 10, "audio/pcm") == [(b"x" * 10, "audio/pcm")]
    # The decoder refuses this rate at once (1007): holding it would only grow memory.
    held = PcmCoalescer(20)
    assert held.add(b"x" * 10, "audio/pcm;rate=999999999") == [
        (b"x" * 10, "audio/pcm;rate=999999999")
    ]
