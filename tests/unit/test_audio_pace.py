"""Audio faster than real time is paced: a burst is taken at once, then ``speed`` times real
time, the reader waiting before each blob; a real-time microphone never waits."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from openlive.audio.pcm import INPUT_RATE
from openlive.session.pace import AudioPace

from .session_fakes import FakeClock
from .test_listener_words import listener_for


class CountingVAD:
    """Hears nothing; counts the frames it was asked about (the audio heard so far)."""

    def __init__(self) -> None:
        self.frames = 0

    def new_stream(self) -> CountingVAD:
        return self

    def process(self, frame: np.ndarray) -> float:
        self.frames += 1
        return 0.0

    def heard_s(self) -> float:
        return self.frames * 512 / INPUT_RATE


def test_a_burst_is_free_then_audio_waits_at_the_pace() -> None:
    clock = FakeClock()
    pace = AudioPace(clock, speed=4.0, burst_s=20.0)
    assert [pace.delay_for(1.0) for _ in range(20)] == [0.0] * 20
    assert pace.delay_for(1.0) == pytest.approx(0.25)  # one second of audio at 4x
    clock._now += 0.25
    assert pace.delay_for(2.0) == pytest.approx(0.5)
    # Asked again before that wait is over: the waits queue up, each counted from now.
    assert pace.delay_for(1.0) == pytest.approx(0.75)
    assert pace.waited_s == pytest.approx(1.5)


def test_a_microphone_never_waits() -> None:
    clock = FakeClock()
    pace = AudioPace(clock, speed=4.0, burst_s=20.0)
    for _ in range(3000):  # two minutes of 40 ms chunks, each sent as it is captured
        assert pace.delay_for(0.04) == 0.0
        clock._now += 0.04
    # Audio that waited for the network arrives late, all at once: the burst absorbs it.
    assert pace.delay_for(5.0) == 0.0


def test_credit_refills_while_waiting_and_no_further_than_the_burst() -> None:
    clock = FakeClock()
    pace = AudioPace(clock, speed=2.0, burst_s=4.0)
    assert pace.delay_for(6.0) == pytest.approx(1.0)  # 2 s of debt at 2x
    clock._now += 1.0  # the wait: the credit is back at 0, not ahead
    assert pace.delay_for(1.0) == pytest.approx(0.5)
    clock._now += 100.0
    assert pace.delay_for(4.0) == 0.0  # a full burst again, no more
    assert pace.delay_for(0.5) == pytest.approx(0.25)


def test_zero_speed_is_not_paced() -> None:
    pace = AudioPace(FakeClock(), speed=0.0, burst_s=0.0)
    assert pace.delay_for(3600.0) == 0.0


async def test_an_upload_faster_than_real_time_is_heard_at_the_pace() -> None:
    """A minute of audio sent at once, in 1 s blobs: 20 s are heard at once, then the reader
    waits, 4 s of audio per second of the clock."""
    clock = FakeClock()
    vad = CountingVAD()
    listener = listener_for(clock, vad=vad, pace=4.0, burst_s=20.0)
    second = np.zeros(INPUT_RATE, dtype="<i2").tobytes()

    async def upload() -> None:
        for _ in range(60):
            await listener.feed(second, "audio/pcm;rate=16000")

    sender = asyncio.create_task(upload())
    await clock.advance(0)
    assert vad.heard_s() == pytest.approx(20.0, abs=0.1)
    await clock.advance(2.5)
    assert vad.heard_s() == pytest.approx(30.0, abs=0.1)
    await clock.advance(10.0)
    assert vad.heard_s() == pytest.approx(60.0, abs=0.1)
    await sender
    await listener.aclose()
