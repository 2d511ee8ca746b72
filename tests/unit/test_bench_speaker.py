"""The voice bench's client figures: when a client that plays audio on arrival first plays a
sound (silence at the start of a reply included), and how long it waits for audio later on."""

import numpy as np

from openlive.benchmarks.latency import AUDIBLE, OUTPUT_RATE, Speaker


def pcm(silent_s: float, loud_s: float = 0.0) -> bytes:
    silent = np.zeros(round(silent_s * OUTPUT_RATE), dtype="<i2")
    loud = np.full(round(loud_s * OUTPUT_RATE), AUDIBLE * 10, dtype="<i2")
    return np.concatenate([silent, loud]).tobytes()


def test_leading_silence_is_played_before_the_first_sound() -> None:
    speaker = Speaker()
    speaker.play(10.0, pcm(0.2))  # 200 ms of silence, played 10.0-10.2
    speaker.play(10.1, pcm(0.05, 0.15))  # arrives while the first plays: queued behind it
    assert speaker.first_audible_at is not None
    assert abs(speaker.first_audible_at - 10.25) < 1e-6


def test_a_late_chunk_starts_when_it_arrives() -> None:
    speaker = Speaker()
    speaker.play(10.0, pcm(0.2))
    speaker.play(10.5, pcm(0.05, 0.15))  # the client ran dry at 10.2 and waited
    assert speaker.first_audible_at is not None
    assert abs(speaker.first_audible_at - 10.55) < 1e-6


def test_quiet_samples_are_not_heard_and_the_first_sound_is_kept() -> None:
    speaker = Speaker()
    quiet = np.full(OUTPUT_RATE // 10, AUDIBLE - 1, dtype="<i2").tobytes()
    speaker.play(1.0, quiet)
    assert speaker.first_audible_at is None
    speaker.play(1.0, pcm(0.0, 0.1))
    speaker.play(1.0, pcm(0.0, 0.1))
    assert speaker.first_audible_at is not None
    assert abs(speaker.first_audible_at - 1.1) < 1e-6


def test_the_speaker_running_dry_inside_a_reply_is_counted_as_silence() -> None:
    speaker = Speaker()
    speaker.play(10.0, pcm(0.0, 0.5))  # the first clause: plays 10.0-10.5
    speaker.play(10.3, pcm(0.0, 0.5))  # in time: queued, plays 10.5-11.0
    assert speaker.gaps_s == 0.0
    speaker.play(11.4, pcm(0.0, 0.2))  # the next clause came 0.4 s after the speaker ran dry
    speaker.play(11.5, pcm(0.0, 0.2))
    assert abs(speaker.gaps_s - 0.4) < 1e-6
