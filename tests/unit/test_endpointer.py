"""The endpointer: when speech starts, when a turn may have ended, and when it has.

Most tests script the VAD's probabilities frame by frame (and number the audio frames, so the
utterance audio in an event shows exactly which frames it holds); the last ones run real speech
through Silero, Smart Turn and Whisper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest

from openlive.engines.asr import WhisperASR
from openlive.engines.listening import (
    FRAME_MS,
    FRAME_SAMPLES,
    EndOfTurnCandidate,
    Endpointer,
    EndpointerConfig,
    EndReason,
    Event,
    Sensitivity,
    SpeechResumed,
    SpeechStarted,
    TurnEnded,
)
from openlive.engines.turn import SmartTurn
from openlive.engines.vad import SileroVAD

from ..speech import SpeechMaker, join, pad, pink_noise
from ..wer import wer

FRAME_S = FRAME_SAMPLES / 16000  # 0.032


class ScriptedVAD:
    """Returns the given probabilities, one per frame (then silence)."""

    def __init__(self, probabilities: Sequence[float]) -> None:
        self.probabilities = list(probabilities)
        self.frames = 0

    def process(self, frame: np.ndarray) -> float:
        assert frame.shape == (FRAME_SAMPLES,)
        p = self.probabilities[self.frames] if self.frames < len(self.probabilities) else 0.0
        self.frames += 1
        return p


def numbered_frames(count: int) -> np.ndarray:
    """Audio whose frame i holds the value i everywhere, so any slice names its frames."""
    return np.repeat(np.arange(count, dtype=np.float32), FRAME_SAMPLES)


def frames_in(audio: np.ndarray) -> list[int]:
    return [int(v) for v in audio[::FRAME_SAMPLES]]


def run(
    probabilities: Sequence[float],
    config: EndpointerConfig | None = None,
    *,
    frames: int | None = None,
    chunk: int = FRAME_SAMPLES,
) -> tuple[Endpointer, list[Event]]:
    endpointer = Endpointer(ScriptedVAD(probabilities), config)
    audio = numbered_frames(frames or len(probabilities))
    events: list[Event] = []
    for start in range(0, len(audio), chunk):
        events.extend(endpointer.feed(audio[start : start + chunk]))
    return endpointer, events


def only(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


SPEECH = 0.9
TURN = [0.0] * 10 + [SPEECH] * 30 + [0.0] * 60  # 0.32 s silence, 0.96 s speech, 1.92 s silence


# -- speech start -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sensitivity", "frames_needed"),
    [(Sensitivity.HIGH, 6), (None, 7), (Sensitivity.LOW, 9)],
)
def test_speech_starts_once_it_has_lasted_the_minimum(
    sensitivity: Sensitivity | None, frames_needed: int
) -> None:
    config = EndpointerConfig(start_sensitivity=sensitivity)
    assert frames_needed == np.ceil(config.min_speech_ms / 32)
    _, events = run(TURN, config)
    (started,) = only(events, SpeechStarted)
    assert started.t == pytest.approx(10 * FRAME_S)
    assert started.confirmed_t == pytest.approx((10 + frames_needed) * FRAME_S)
    assert events[0] is started


@pytest.mark.parametrize("sensitivity", [Sensitivity.HIGH, None, Sensitivity.LOW])
@pytest.mark.parametrize("blip_frames", [1, 2, 3])
def test_a_blip_shorter_than_100_ms_does_not_start_speech(
    sensitivity: Sensitivity | None, blip_frames: int
) -> None:
    probabilities = [0.0] * 10 + [0.99] * blip_frames + [0.0] * 40
    endpointer, events = run(probabilities, EndpointerConfig(start_sensitivity=sensitivity))
    assert events == []
    assert not endpointer.in_speech


def test_a_brief_dip_does_not_restart_the_count() -> None:
    """Frames between the two thresholds (0.35..0.5) neither count nor reset; a frame below
    0.35 resets."""
    high = EndpointerConfig(start_sensitivity=Sensitivity.HIGH)
    _, events = run([0.0] * 5 + [SPEECH, 0.4] * 6 + [0.0] * 10, high)
    (started,) = only(events, SpeechStarted)
    assert started.t == pytest.approx(5 * FRAME_S)
    assert started.confirmed_t == pytest.approx(16 * FRAME_S)  # the 6th loud frame is frame 15

    _, events = run([0.0] * 5 + [SPEECH] * 5 + [0.2] + [SPEECH] * 5 + [0.0] * 10, high)
    assert events == []


def test_low_start_sensitivity_needs_more_confidence() -> None:
    hesitant = [0.0] * 5 + [0.55] * 30 + [0.0] * 10
    _, events = run(hesitant, EndpointerConfig(start_sensitivity=Sensitivity.HIGH))
    assert only(events, SpeechStarted)
    _, events = run(hesitant, EndpointerConfig(start_sensitivity=Sensitivity.LOW))
    assert events == []


# -- end of turn ------------------------------------------------------------------------------


def test_turn_ends_after_the_silence_duration() -> None:
    endpointer, events = run(TURN)
    started, candidate, ended = events
    assert isinstance(started, SpeechStarted)
    assert isinstance(candidate, EndOfTurnCandidate)
    assert isinstance(ended, TurnEnded)
    # Speech stops at frame 40: a candidate after 3 quiet frames (96 ms) ...
    assert candidate.speech_end_t == pytest.approx(40 * FRAME_S)
    assert candidate.t == pytest.approx(43 * FRAME_S)
    # ... and, with no word from the turn model, the end after 800 ms (25 frames).
    assert ended.reason is EndReason.SILENCE
    assert ended.t == pytest.approx(65 * FRAME_S)
    assert ended.speech_end_t == pytest.approx(40 * FRAME_S)
    assert ended.candidate_id == candidate.candidate_id
    assert not endpointer.in_speech


@pytest.mark.parametrize(
    ("config", "end_frame"),
    [
        (EndpointerConfig(end_sensitivity=Sensitivity.HIGH), 40 + 19),  # 600 ms → 19 frames
        (EndpointerConfig(), 40 + 25),  # 800 ms
        (EndpointerConfig(end_sensitivity=Sensitivity.LOW), 40 + 38),  # 1200 ms → 38 frames
        (EndpointerConfig(end_sensitivity=Sensitivity.LOW, silence_duration_ms=500), 40 + 16),
    ],
    ids=["high", "unset", "low", "client silence"],
)
def test_end_sensitivity_and_silence_duration_set_the_timeout(
    config: EndpointerConfig, end_frame: int
) -> None:
    _, events = run(TURN, config)
    (ended,) = only(events, TurnEnded)
    assert ended.t == pytest.approx(end_frame * FRAME_S)


def test_a_silence_duration_shorter_than_the_candidate_pause_ends_at_once() -> None:
    _, events = run(TURN, EndpointerConfig(silence_duration_ms=50))
    _, candidate, ended = events
    assert isinstance(candidate, EndOfTurnCandidate)
    assert isinstance(ended, TurnEnded)
    assert candidate.t == ended.t == pytest.approx((40 + 2) * FRAME_S)  # 64 ms >= 50 ms


def test_turn_model_saying_complete_ends_the_turn_once_the_pause_is_long_enough() -> None:
    endpointer = Endpointer(ScriptedVAD(TURN))
    audio = numbered_frames(len(TURN))
    candidate = None
    for i in range(len(TURN)):
        events = endpointer.feed(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
        if only(events, EndOfTurnCandidate):
            candidate = events[0]
            break
    assert isinstance(candidate, EndOfTurnCandidate)
    # The answer comes 96 ms into the pause: the turn ends at 224 ms (7 frames >= 200 ms).
    assert endpointer.on_turn_prediction(0.8, candidate.candidate_id) == []
    for quiet in range(i + 1, 46):  # frames 43-45: the pause is still short of the floor
        assert endpointer.feed(audio[quiet * FRAME_SAMPLES : (quiet + 1) * FRAME_SAMPLES]) == []
    (ended,) = endpointer.feed(audio[46 * FRAME_SAMPLES : 47 * FRAME_SAMPLES])
    assert isinstance(ended, TurnEnded)
    assert ended.reason is EndReason.TURN_MODEL
    assert ended.t == pytest.approx(47 * FRAME_S)
    assert ended.candidate_id == candidate.candidate_id
    assert frames_in(ended.audio) == [*frames_in(candidate.audio), *range(i + 1, 47)]
    assert not endpointer.in_speech
    # An answer after the floor ends the turn at once.
    late = Endpointer(ScriptedVAD(TURN))
    events = late.feed(audio[: 47 * FRAME_SAMPLES])
    (candidate,) = only(events, EndOfTurnCandidate)
    (ended,) = late.on_turn_prediction(0.8, candidate.candidate_id)
    assert ended.t == pytest.approx(47 * FRAME_S)


def test_speech_before_the_shortest_pause_keeps_the_turn_open_whatever_the_model_said() -> None:
    """A phrase boundary: 6 quiet frames (192 ms) then speech. The candidate at 96 ms is
    called complete, but the words go on before a turn may end."""
    probabilities = [0.0] * 5 + [SPEECH] * 20 + [0.0] * 6 + [SPEECH] * 20 + [0.0] * 40
    endpointer = Endpointer(ScriptedVAD(probabilities))
    audio = numbered_frames(len(probabilities))
    seen: list[Event] = []
    for i in range(len(probabilities)):
        events = endpointer.feed(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
        for event in events:
            if isinstance(event, EndOfTurnCandidate):
                events += endpointer.on_turn_prediction(0.99, event.candidate_id)
        seen += events
    ends = only(seen, TurnEnded)
    assert len(ends) == 1
    assert ends[0].speech_end_t == pytest.approx(51 * FRAME_S)  # after the second phrase
    assert only(seen, SpeechResumed)


def test_turn_model_saying_incomplete_waits_for_the_silence_duration() -> None:
    endpointer = Endpointer(ScriptedVAD(TURN))
    audio = numbered_frames(len(TURN))
    ends: list[TurnEnded] = []
    for i in range(len(TURN)):
        for event in endpointer.feed(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]):
            if isinstance(event, EndOfTurnCandidate):
                assert endpointer.on_turn_prediction(0.3, event.candidate_id) == []
            if isinstance(event, TurnEnded):
                ends.append(event)
    (ended,) = ends
    assert ended.reason is EndReason.SILENCE
    assert ended.t == pytest.approx(65 * FRAME_S)


def test_speech_after_a_candidate_voids_it() -> None:
    # Speech, a 320 ms pause (a candidate at 224 ms), more speech, then silence.
    probabilities = [0.0] * 5 + [SPEECH] * 20 + [0.0] * 10 + [SPEECH] * 20 + [0.0] * 40
    endpointer = Endpointer(ScriptedVAD(probabilities))
    audio = numbered_frames(len(probabilities))
    events: list[Event] = []
    for i in range(len(probabilities)):
        events.extend(endpointer.feed(audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]))
    kinds = [type(e) for e in events]
    assert kinds == [
        SpeechStarted,
        EndOfTurnCandidate,
        SpeechResumed,
        EndOfTurnCandidate,
        TurnEnded,
    ]
    first, resumed, second, ended = events[1], events[2], events[3], events[4]
    assert resumed.candidate_id == first.candidate_id
    assert resumed.t == pytest.approx((35 + 2) * FRAME_S)  # 64 ms of speech confirms it
    assert second.candidate_id != first.candidate_id
    assert ended.candidate_id == second.candidate_id
    # One utterance: both stretches of speech and the pause between them.
    assert {25, 30, 35, 50} <= set(frames_in(ended.audio))
    # The turn has already ended: a prediction arriving now changes nothing.
    assert endpointer.on_turn_prediction(0.99, first.candidate_id) == []


def test_a_late_prediction_for_a_voided_candidate_is_ignored() -> None:
    probabilities = [0.0] * 5 + [SPEECH] * 20 + [0.0] * 10 + [SPEECH] * 20 + [0.0] * 9
    endpointer, events = run(probabilities)
    first, second = only(events, EndOfTurnCandidate)
    assert endpointer.on_turn_prediction(0.99, first.candidate_id) == []
    assert endpointer.in_speech
    (ended,) = endpointer.on_turn_prediction(0.99)  # no id: the newest candidate
    assert ended.candidate_id == second.candidate_id


def test_one_loud_frame_in_a_pause_is_not_speech() -> None:
    probabilities = [0.0] * 5 + [SPEECH] * 20 + [0.0] * 10 + [SPEECH] + [0.0] * 30
    _, events = run(probabilities)
    assert [type(e) for e in events] == [SpeechStarted, EndOfTurnCandidate, TurnEnded]
    assert events[2].speech_end_t == pytest.approx(25 * FRAME_S)


def test_flush_ends_an_utterance_in_progress() -> None:
    endpointer, events = run([0.0] * 5 + [SPEECH] * 20)
    assert only(events, SpeechStarted)
    (ended,) = endpointer.flush()
    assert ended.reason is EndReason.STREAM_END
    assert ended.candidate_id is None
    assert frames_in(ended.audio)[-1] == 24
    assert endpointer.flush() == []


def test_an_utterance_that_never_pauses_ends_at_its_bound_and_goes_on_afresh() -> None:
    # docs/limits.md, max_turn_audio_s: 40 frames of look-back and speech at most per turn.
    config = EndpointerConfig(max_utterance_s=40 * FRAME_S)
    endpointer, events = run([0.0] * 5 + [SPEECH] * 100, config)
    first, second, *_ = only(events, TurnEnded)
    assert first.reason is second.reason is EndReason.MAX_LENGTH
    assert len(first.audio) == 40 * FRAME_SAMPLES  # never more than the bound
    kept = frames_in(first.audio)
    assert kept == list(range(kept[0], kept[0] + 40))
    # The frame past the bound is heard afresh: the next utterance starts there, no gap.
    assert [type(e) for e in events[:3]] == [SpeechStarted, TurnEnded, SpeechStarted]
    assert frames_in(second.audio)[0] == kept[-1] + 1
    assert endpointer.in_speech
    assert all(len(e.audio) <= 40 * FRAME_SAMPLES for e in only(events, TurnEnded))


# -- the utterance audio ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix_padding_ms", "first_frame"),
    [(None, 20 - 10), (300, 20 - 10), (500, 20 - 16), (0, 20 - 3), (5000, 0)],
    ids=["default 300 ms", "300 ms", "500 ms", "0 → floor of 96 ms", "more than there is"],
)
def test_prefix_padding_is_included(prefix_padding_ms: int | None, first_frame: int) -> None:
    probabilities = [0.0] * 20 + [SPEECH] * 30 + [0.0] * 40
    config = EndpointerConfig(prefix_padding_ms=prefix_padding_ms)
    _, events = run(probabilities, config)
    candidate = only(events, EndOfTurnCandidate)[0]
    ended = only(events, TurnEnded)[0]
    candidate_frames = math.ceil(config.candidate_silence_ms / FRAME_MS)
    assert frames_in(candidate.audio) == list(range(first_frame, 50 + candidate_frames))
    assert frames_in(ended.audio) == list(range(first_frame, 50 + 25))


def test_any_chunk_size_gives_the_same_events() -> None:
    def summary(events: list[Event]) -> list[tuple]:
        return [(type(e).__name__, e.t, len(getattr(e, "audio", ()))) for e in events]

    _, reference = run(TURN)
    for chunk in (100, 1600, 4000, 7777):
        _, events = run(TURN, chunk=chunk)
        assert summary(events) == summary(reference)


def test_progress_of_the_current_utterance() -> None:
    endpointer, _ = run([0.0] * 10 + [SPEECH] * 20)
    assert endpointer.in_speech
    assert endpointer.time == pytest.approx(30 * FRAME_S)
    assert endpointer.speech_duration_s() == pytest.approx(20 * FRAME_S)
    assert frames_in(endpointer.current_audio()) == list(range(0, 30))

    idle, _ = run([0.0] * 10)
    assert not idle.in_speech
    assert idle.speech_duration_s() == 0.0
    assert len(idle.current_audio()) == 0


def test_config_from_the_setup_message() -> None:
    detection = SimpleNamespace(
        start_of_speech_sensitivity="START_SENSITIVITY_LOW",
        end_of_speech_sensitivity="END_SENSITIVITY_HIGH",
        prefix_padding_ms=20,
        silence_duration_ms=100,
    )
    config = EndpointerConfig.from_setup(detection)
    assert config.start_sensitivity is Sensitivity.LOW
    assert config.end_sensitivity is Sensitivity.HIGH
    assert config.end_silence_ms == 100
    assert config.prefix_ms == 96

    unset = EndpointerConfig.from_setup(SimpleNamespace(start_of_speech_sensitivity="X"))
    assert unset == EndpointerConfig()
    assert unset.end_silence_ms == 800
    assert unset.prefix_ms == 300
    assert EndpointerConfig.from_setup(None) == EndpointerConfig()
    assert Sensitivity.parse("START_SENSITIVITY_UNSPECIFIED") is None


# -- real speech ------------------------------------------------------------------------------

QUESTION = "Can you tell me what the weather will be like tomorrow in London?"
STATEMENT = "Please remind me to call my sister when I get home tonight."


def feed_all(endpointer: Endpointer, audio: np.ndarray, chunk: int = 1600) -> list[Event]:
    events: list[Event] = []
    for start in range(0, len(audio), chunk):
        events.extend(endpointer.feed(audio[start : start + chunk]))
    return events


def test_real_speech_start_and_end(silero: SileroVAD, speech: SpeechMaker) -> None:
    clip = speech.say(STATEMENT)
    endpointer = Endpointer(silero.new_stream())
    events = feed_all(endpointer, pad(clip, before=1.0, after=1.5))
    # A phrase boundary ("... my sister | when I ...") may be a candidate that speech voids.
    started, *middle, candidate, ended = events
    assert [type(e) for e in middle] == [EndOfTurnCandidate, SpeechResumed] * (len(middle) // 2)
    assert isinstance(started, SpeechStarted)
    assert 1.0 <= started.t <= 1.15
    assert started.confirmed_t - started.t == pytest.approx(0.224, abs=0.04)
    assert isinstance(candidate, EndOfTurnCandidate)
    speech_end = 1.0 + len(clip) / 16000
    assert abs(candidate.speech_end_t - speech_end) < 0.15
    assert isinstance(ended, TurnEnded)
    assert ended.reason is EndReason.SILENCE
    # The utterance holds the 300 ms before the detected start, so the first phoneme is in.
    assert len(ended.audio) / 16000 == pytest.approx(ended.t - started.t + 0.3, abs=0.04)
    assert np.abs(ended.audio[: int(0.25 * 16000)]).max() < 1e-6  # the pre-roll was silence


def test_real_pipeline_ends_a_finished_question_quickly(
    silero: SileroVAD, smart_turn: SmartTurn, whisper_asr: WhisperASR, speech: SpeechMaker
) -> None:
    """VAD → candidate after 96 ms → turn model says complete → turn over, long before the
    800 ms timeout; the utterance transcribes correctly."""
    endpointer = Endpointer(silero.new_stream())
    audio = pad(speech.say(QUESTION), before=0.5, after=1.5)
    ended = None
    for start in range(0, len(audio), FRAME_SAMPLES):
        for event in endpointer.feed(audio[start : start + FRAME_SAMPLES]):
            if isinstance(event, EndOfTurnCandidate):
                p = smart_turn.predict(event.audio)
                for result in endpointer.on_turn_prediction(p, event.candidate_id):
                    ended = result
            elif isinstance(event, TurnEnded):
                ended = event
        if ended:
            break
    assert isinstance(ended, TurnEnded)
    assert ended.reason is EndReason.TURN_MODEL
    assert ended.t - ended.speech_end_t < 0.3
    assert wer(QUESTION, whisper_asr.transcribe(ended.audio).text) <= 0.15


def test_real_pause_between_sentences_resumes_the_turn(
    silero: SileroVAD, whisper_asr: WhisperASR, speech: SpeechMaker
) -> None:
    audio = pad(join(speech.say(QUESTION), speech.say(STATEMENT), gap=0.5), 0.5, 1.5)
    events = feed_all(Endpointer(silero.new_stream()), audio)
    assert len(only(events, SpeechStarted)) == 1
    assert only(events, SpeechResumed)
    (ended,) = only(events, TurnEnded)
    text = whisper_asr.transcribe(ended.audio).text
    assert wer(f"{QUESTION} {STATEMENT}", text) <= 0.15, text


def test_real_blip_of_speech_does_not_start_a_turn(silero: SileroVAD, speech: SpeechMaker) -> None:
    clip = speech.say(STATEMENT)
    for offset_s in (0.3, 0.8, 1.3, 1.8):
        start = int(offset_s * 16000)
        blip = clip[start : start + int(0.08 * 16000)]  # 80 ms of a voiced syllable
        events = feed_all(Endpointer(silero.new_stream()), pad(blip, 0.5, 0.5))
        assert events == [], offset_s


def test_noise_does_not_start_a_turn(silero: SileroVAD) -> None:
    for seed, level in enumerate((0.005, 0.05, 0.2)):
        noise = pink_noise(10.0, rms=level, seed=seed)
        assert feed_all(Endpointer(silero.new_stream()), noise) == []
