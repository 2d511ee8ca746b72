"""Silero VAD: speech frames are found in speech, and nothing is found in silence or noise."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from openlive.engines.vad import FRAME_SAMPLES, SileroVAD

from ..speech import SpeechMaker, add_noise, pad, pink_noise, silence

SENTENCE = "Could you tell me how long it takes to walk from here to the old harbour?"


def probabilities(vad: SileroVAD, audio: np.ndarray) -> np.ndarray:
    stream = vad.new_stream()
    frames = len(audio) // FRAME_SAMPLES
    return np.array(
        [stream.process(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]) for i in range(frames)]
    )


def speech_mask(audio: np.ndarray) -> np.ndarray:
    """Frames whose audio is clearly voiced (the truth for clean synthetic speech)."""
    frames = audio[: len(audio) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    return np.sqrt((frames**2).mean(axis=1)) > 0.02


def test_speech_frames_are_detected(silero: SileroVAD, speech: SpeechMaker) -> None:
    audio = pad(speech.say(SENTENCE), before=1.0, after=1.0)
    p = probabilities(silero, audio)
    voiced = speech_mask(audio)
    assert (p[voiced] > 0.5).mean() >= 0.9
    # The silence before the speech is silence; the model never fires there.
    assert p[: int(0.9 * 16000 / FRAME_SAMPLES)].max() < 0.5


def test_speech_in_pink_noise_is_detected(silero: SileroVAD, speech: SpeechMaker) -> None:
    clean = pad(speech.say(SENTENCE), before=1.0, after=1.0)
    p = probabilities(silero, add_noise(clean, snr_db=10))
    assert (p[speech_mask(clean)] > 0.5).mean() >= 0.85


@pytest.mark.parametrize(
    "audio",
    [silence(5.0), pink_noise(10.0, rms=0.01), pink_noise(10.0, rms=0.1, seed=1)],
    ids=["silence", "quiet pink noise", "loud pink noise"],
)
def test_no_speech_in_silence_or_noise(silero: SileroVAD, audio: np.ndarray) -> None:
    p = probabilities(silero, audio)
    assert (p > 0.5).mean() <= 0.02


def test_streams_are_independent(silero: SileroVAD, speech: SpeechMaker) -> None:
    """Each stream carries its own recurrent state: interleaving two streams on the shared model
    gives exactly what each stream gives alone."""
    a = pad(speech.say(SENTENCE), before=0.5, after=0.5)
    b = pink_noise(len(a) / 16000, rms=0.05)
    alone_a, alone_b = probabilities(silero, a), probabilities(silero, b)
    sa, sb = silero.new_stream(), silero.new_stream()
    mixed_a, mixed_b = [], []
    for i in range(len(alone_a)):
        frame = slice(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)
        mixed_a.append(sa.process(a[frame]))
        mixed_b.append(sb.process(b[frame]))
    np.testing.assert_allclose(mixed_a, alone_a, atol=1e-6)
    np.testing.assert_allclose(mixed_b, alone_b, atol=1e-6)


def test_shared_model_is_thread_safe(silero: SileroVAD, speech: SpeechMaker) -> None:
    audio = pad(speech.say(SENTENCE), before=0.5, after=0.5)
    expected = probabilities(silero, audio)
    results: list[np.ndarray] = []

    def run() -> None:
        results.append(probabilities(silero, audio))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_reset_forgets_the_past(silero: SileroVAD, speech: SpeechMaker) -> None:
    audio = speech.say(SENTENCE)[: 20 * FRAME_SAMPLES]
    stream = silero.new_stream()
    first = [stream.process(audio[i : i + FRAME_SAMPLES]) for i in range(0, len(audio), 512)]
    stream.reset()
    again = [stream.process(audio[i : i + FRAME_SAMPLES]) for i in range(0, len(audio), 512)]
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_frame_size_is_checked(silero: SileroVAD) -> None:
    with pytest.raises(ValueError, match="512"):
        silero.new_stream().process(np.zeros(480, dtype=np.float32))


def test_a_frame_is_cheap_enough_for_the_event_loop(silero: SileroVAD) -> None:
    stream = silero.new_stream()
    frame = pink_noise(FRAME_SAMPLES / 16000, rms=0.05)
    stream.process(frame)
    start = time.perf_counter()
    for _ in range(200):
        stream.process(frame)
    per_frame = (time.perf_counter() - start) / 200
    assert per_frame < 0.002  # ~0.1 ms measured; generous for loaded CI machines
