"""The end-of-turn rules: the audio's and the words' probabilities, scripted, decide a candidate.

The VAD is scripted (speech stops at frame 40, the candidate comes 96 ms later, at frame 43,
as in tests/unit/test_endpointer.py); each signal's answer is handed back at a chosen frame, as
a worker thread would hand it back some audio later. Probabilities are named by the rules' own
thresholds, so retuning a threshold does not silently change what a test means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from openlive.engines.listening import (
    AUDIO_ONLY_RULES,
    FRAME_MS,
    TURN_RULES,
    Action,
    Band,
    EndOfTurnCandidate,
    Endpointer,
    EndpointerConfig,
    EndReason,
    Sensitivity,
    TurnEnded,
)

from .test_endpointer import FRAME_S, SPEECH, ScriptedVAD, numbered_frames

TURN = [0.0] * 10 + [SPEECH] * 30 + [0.0] * 80  # 2.56 s of silence: longer than any hold
R = TURN_RULES
WORDS = EndpointerConfig(rules=TURN_RULES)
AUDIO_SURE = (R.audio_sure + 1) / 2
AUDIO_YES = (R.audio_yes + R.audio_sure) / 2
AUDIO_NO = R.audio_no / 2
TEXT_YES = (R.text_yes + 1) / 2
TEXT_MAYBE = (R.text_yes + R.text_no) / 2
TEXT_NO = R.text_no / 2
SPEECH_END = 40  # frames
CANDIDATE = SPEECH_END + math.ceil(EndpointerConfig().candidate_silence_ms / FRAME_MS)
EARLIEST = SPEECH_END + math.ceil(EndpointerConfig().min_silence_ms / FRAME_MS)  # 47: 224 ms


@dataclass
class Answer:
    frame: int  # when the worker hands it back
    signal: str  # "audio" or "text"
    p: float | None


def end_of(answers: list[Answer], config: EndpointerConfig | None = None) -> TurnEnded:
    """Feed ``TURN`` frame by frame, handing back each answer at its frame; the turn's end."""
    endpointer = Endpointer(ScriptedVAD(TURN), WORDS if config is None else config)
    audio = numbered_frames(len(TURN))
    candidate = None
    for i in range(len(TURN)):
        events = []
        for answer in answers:
            if answer.frame == i and candidate is not None:
                if answer.signal == "audio":
                    events += endpointer.on_turn_prediction(answer.p or 0.0, candidate)
                else:
                    events += endpointer.on_text_prediction(answer.p, candidate)
        events += endpointer.feed(audio[i * 512 : (i + 1) * 512])
        for event in events:
            if isinstance(event, EndOfTurnCandidate):
                assert i + 1 == CANDIDATE
                candidate = event.candidate_id
            if isinstance(event, TurnEnded):
                return event
    raise AssertionError("the turn never ended")


def frames_after_speech(ended: TurnEnded) -> int:
    return round(ended.t / FRAME_S) - SPEECH_END


def test_voice_sure_ends_at_once_without_waiting_for_the_words() -> None:
    ended = end_of([Answer(EARLIEST + 1, "audio", AUDIO_SURE)])
    assert ended.reason is EndReason.TURN_MODEL
    assert round(ended.t / FRAME_S) == EARLIEST + 1


def test_voice_complete_waits_for_the_words_and_ends_when_they_agree() -> None:
    # The voice alone (not sure) ends nothing; finished words a few frames later do.
    ended = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_YES), Answer(CANDIDATE + 6, "text", TEXT_YES)]
    )
    assert ended.reason is EndReason.TURN_MODEL
    assert round(ended.t / FRAME_S) == CANDIDATE + 6


def test_order_of_the_answers_does_not_matter() -> None:
    ended = end_of(
        [Answer(CANDIDATE + 3, "text", TEXT_MAYBE), Answer(CANDIDATE + 5, "audio", AUDIO_YES)]
    )
    assert round(ended.t / FRAME_S) == CANDIDATE + 5


def test_unfinished_words_hold_the_turn_past_the_usual_silence() -> None:
    """ "What is the tallest mountain in" with a falling pitch: the voice says complete, the words
    say unfinished; the usual 800 ms does not end it, the 1.6 s hold does."""
    ended = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_YES), Answer(CANDIDATE + 8, "text", TEXT_NO)]
    )
    assert ended.reason is EndReason.SILENCE
    assert frames_after_speech(ended) == 50  # 1600 ms


@pytest.mark.parametrize(
    ("config", "frames"),
    [
        (EndpointerConfig(end_sensitivity=Sensitivity.HIGH, rules=R), 38),  # 1200 ms
        (EndpointerConfig(end_sensitivity=Sensitivity.LOW, rules=R), 63),  # 2000 ms
        (EndpointerConfig(silence_duration_ms=700, rules=R), 22),  # the client's: never stretched
        (EndpointerConfig(end_sensitivity=Sensitivity.LOW, silence_duration_ms=500, rules=R), 16),
    ],
    ids=["high", "low", "client silence", "client silence beats sensitivity"],
)
def test_the_hold_follows_the_sensitivity_and_never_outlasts_the_clients_silence(
    config: EndpointerConfig, frames: int
) -> None:
    ended = end_of([Answer(CANDIDATE + 1, "text", TEXT_NO)], config)
    assert frames_after_speech(ended) == frames


def test_finished_words_and_an_unsure_voice_end_after_a_shorter_pause() -> None:
    ended = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_NO), Answer(CANDIDATE + 4, "text", TEXT_YES)]
    )
    assert ended.reason is EndReason.TURN_MODEL
    assert frames_after_speech(ended) == 15  # 480 ms, not 800


def test_a_shorter_pause_already_over_ends_the_turn_when_the_words_arrive() -> None:
    ended = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_NO), Answer(SPEECH_END + 20, "text", TEXT_YES)]
    )
    assert ended.reason is EndReason.TURN_MODEL
    assert frames_after_speech(ended) == 20  # at the answer: 640 ms > 480 ms already


def test_no_words_to_judge_are_neither_yes_nor_no() -> None:
    # Recognition found no words (a cough): the voice's "complete" is not held back.
    ended = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_YES), Answer(EARLIEST + 1, "text", None)],
        WORDS,
    )
    assert ended.reason is EndReason.TURN_MODEL
    assert round(ended.t / FRAME_S) == EARLIEST + 1


def test_the_voice_unsure_waits_for_the_words_beyond_the_usual_silence() -> None:
    """Slow words must still count: a voice that is not sure keeps the turn open for them (up
    to 1.2 s), and unfinished words arriving after 800 ms keep it open further."""
    late_no = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_YES), Answer(SPEECH_END + 30, "text", TEXT_NO)],
        WORDS,
    )
    assert frames_after_speech(late_no) == 50
    late_yes = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_YES), Answer(SPEECH_END + 30, "text", TEXT_YES)],
        WORDS,
    )
    assert late_yes.reason is EndReason.TURN_MODEL
    assert frames_after_speech(late_yes) == 30
    never = end_of([Answer(CANDIDATE + 1, "audio", AUDIO_YES)], WORDS)
    assert never.reason is EndReason.SILENCE
    assert frames_after_speech(never) == 38  # the words never came: 1.2 s is the limit
    client = EndpointerConfig(rules=R, silence_duration_ms=600)
    assert frames_after_speech(end_of([Answer(CANDIDATE + 1, "audio", AUDIO_YES)], client)) == 19


def test_a_voice_that_says_no_waits_for_the_words_too() -> None:
    # Read speech that is over often sounds unfinished to Smart Turn: the words decide.
    late_yes = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_NO), Answer(SPEECH_END + 30, "text", TEXT_YES)],
        WORDS,
    )
    assert late_yes.reason is EndReason.TURN_MODEL
    assert frames_after_speech(late_yes) == 30
    maybe = end_of(
        [Answer(CANDIDATE + 1, "audio", AUDIO_NO), Answer(CANDIDATE + 2, "text", TEXT_MAYBE)],
        WORDS,
    )
    assert maybe.reason is EndReason.SILENCE
    assert frames_after_speech(maybe) == 25  # neither says yes: the usual 800 ms


def test_the_audio_only_rules_are_the_old_rule() -> None:
    config = EndpointerConfig()  # the default: no words signal
    assert config.rules is AUDIO_ONLY_RULES
    ended = end_of(
        [Answer(CANDIDATE, "audio", AUDIO_YES), Answer(CANDIDATE + 1, "text", TEXT_NO)], config
    )
    assert ended.reason is EndReason.TURN_MODEL
    assert round(ended.t / FRAME_S) == EARLIEST
    below = end_of(
        [Answer(CANDIDATE, "audio", R.audio_yes), Answer(CANDIDATE + 1, "text", TEXT_YES)], config
    )
    assert frames_after_speech(below) == 25  # not above the threshold: the silence decides


def test_turn_threshold_still_sets_the_voices_complete() -> None:
    config = EndpointerConfig(turn_threshold=0.2, rules=AUDIO_ONLY_RULES)
    ended = end_of([Answer(CANDIDATE, "audio", 0.3)], config)
    assert round(ended.t / FRAME_S) == EARLIEST


def test_a_hold_does_not_outlive_its_pause() -> None:
    """Speech after the pause voids the candidate's evidence: the next pause is judged anew."""
    probabilities = [0.0] * 5 + [0.9] * 20 + [0.0] * 12 + [0.9] * 20 + [0.0] * 60
    endpointer = Endpointer(ScriptedVAD(probabilities), WORDS)
    audio = numbered_frames(len(probabilities))
    ends = []
    for i in range(len(probabilities)):
        for event in endpointer.feed(audio[i * 512 : (i + 1) * 512]):
            if isinstance(event, EndOfTurnCandidate) and event.candidate_id == 1:
                assert endpointer.on_text_prediction(TEXT_NO, event.candidate_id) == []
            if isinstance(event, TurnEnded):
                ends.append(event)
    (ended,) = ends
    assert round((ended.t - ended.speech_end_t) / FRAME_S) == 25  # the usual 800 ms


def test_the_table_reads_as_documented() -> None:
    assert R.action(AUDIO_SURE, None) is Action.END
    assert R.action(AUDIO_YES, None) is Action.AWAIT  # not sure: the words are awaited
    assert R.action(AUDIO_YES, TEXT_YES) is Action.END
    assert R.action(AUDIO_NO, TEXT_YES) is Action.SOON
    assert R.action(None, TEXT_NO) is Action.HOLD
    assert R.action(AUDIO_SURE, TEXT_NO) is Action.HOLD
    assert R.bands(AUDIO_YES, TEXT_MAYBE) == (Band.YES, Band.MAYBE)
