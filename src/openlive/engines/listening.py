"""Listening: where a user's turn starts and where it ends, from 16 kHz audio (endpointing).

Rules (everything that decides a turn boundary lives here):

* The clock is the audio itself: 512-sample frames (32 ms) at 16 kHz. Every time in an event is
  seconds of audio fed so far, so the same audio always gives the same events, whatever the
  wall clock or machine load.
* The class is pure: no threads, no models of its own beyond the cheap VAD stream it is given.
  The turn model is expensive (~30-110 ms), so the caller runs it in a worker thread when it sees
  ``EndOfTurnCandidate`` and hands the probability back with ``on_turn_prediction``.
* Speech starts when the VAD has heard ``min_speech_ms`` of speech (frames at or above the
  threshold; frames that fall below ``threshold - 0.15`` start the count again). That is the
  moment barge-in keys on, so it must reject coughs and clicks yet stay short.
* A pause starts at the first frame below ``threshold - 0.15`` (Silero's own hysteresis) and ends
  only when speech returns for ``resume_ms`` (one loud frame in a pause is a click, not a word).
* After ``candidate_silence_ms`` (96 ms: 3 frames) of pause comes ``EndOfTurnCandidate``: run
  the turn model and start ASR speculatively now, so both overlap the decision. No turn ends
  before ``min_silence_ms`` (200 ms: 7 frames, 224 ms) of pause, whatever the models say: a
  phrase boundary ("remind me to call my sister | when I get home") pauses 160-220 ms and its
  first half is a complete sentence, which a candidate that could end at once cut off. So the
  work starts 128 ms before the decision may be taken (Smart Turn takes ~100 ms on one slow
  core, Whisper ~350 ms), and answers that come back in between end the turn at that floor
  rather than after it; no turn ends on a loud frame either (it may be the words going on).
  A pause that short is often a word gap: speech resuming voids the candidate's work, which
  costs CPU while the user talks, when little else runs. Two signals come back for the
  candidate: the audio's (Smart Turn, ``on_turn_prediction``) and the words' (the LLM's
  end-of-turn probability after the speculative transcript, ``on_text_prediction``). Each is
  read as yes / maybe / no, and ``TURN_RULES`` (below, as data) says what a pair means: end (at
  the floor), end after a shorter pause (``soon``), wait for the usual silence, or hold on longer
  because the words are plainly unfinished. The words usually come after the audio's answer,
  so a rule may end on the audio alone only when it is sure.
* The silence that ends a turn whatever the models say: the client's ``silenceDurationMs``
  when set (never exceeded, not even by a hold), else a default by end sensitivity that a hold
  stretches (an unfinished sentence may pause for 800 ms and go on).
* If speech resumes after a candidate, ``SpeechResumed`` says that candidate's speculative work
  is void. ``TurnEnded.candidate_id`` names the candidate whose work is still valid: no speech
  has come since, only silence.
* Every event with audio carries the whole utterance: ``prefix_padding_ms`` of audio from before
  speech was detected (VAD onsets lag the first phoneme), through the trailing silence so far.
* An utterance holds at most ``max_utterance_s`` of audio (look-back included): a frame that
  would pass it ends the turn first (``EndReason.MAX_LENGTH``) and is heard afresh, so a voice
  that never pauses (a television, music, a hostile stream) cannot grow the buffer without end.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512
FRAME_MS = FRAME_SAMPLES * 1000 / SAMPLE_RATE  # 32 ms

_HYSTERESIS = 0.15  # Silero's recommended gap between the speech and the non-speech threshold
_MIN_PREFIX_MS = 96  # a few frames of look-back always, or the first phoneme is lost
_MAX_PENDING_MS = 2000  # look-back kept for an onset that has not been confirmed yet


class Sensitivity(Enum):
    """How eagerly speech starts (HIGH: sooner, on less evidence) or ends (HIGH: sooner)."""

    HIGH = "high"
    LOW = "low"

    @classmethod
    def parse(cls, value: str | None) -> Sensitivity | None:
        """``HIGH`` / ``LOW`` or a Gemini enum spelling (``START_SENSITIVITY_HIGH``,
        ``END_SENSITIVITY_LOW``); anything else (unset, ``..._UNSPECIFIED``) is None."""
        if not value:
            return None
        word = value.strip().upper().rsplit("_", 1)[-1]
        return {"HIGH": cls.HIGH, "LOW": cls.LOW}.get(word)


@dataclass(frozen=True)
class _StartTuning:
    threshold: float
    min_speech_ms: float


# HIGH starts on less evidence (faster barge-in, more false starts); LOW asks for more. All three
# stay above 100 ms, so a cough or a click never starts a turn.
_START = {
    Sensitivity.HIGH: _StartTuning(threshold=0.5, min_speech_ms=192),
    None: _StartTuning(threshold=0.5, min_speech_ms=224),
    Sensitivity.LOW: _StartTuning(threshold=0.6, min_speech_ms=288),
}
# Silence that ends a turn the turn model did not call complete. HIGH ends turns sooner.
_END_SILENCE_MS = {Sensitivity.HIGH: 600, None: 800, Sensitivity.LOW: 1200}
# ... and the longer one when the words are plainly unfinished ("what is the tallest mountain
# in"): people pause mid-sentence for most of a second, to think or to breathe.
_HOLD_SILENCE_MS = {Sensitivity.HIGH: 1200, None: 1600, Sensitivity.LOW: 2000}
# The shorter one when the words are finished but the voice was not sure.
_SOON_SILENCE_MS = {Sensitivity.HIGH: 400, None: 480, Sensitivity.LOW: 640}
# How long an unsure voice waits for words that are late (a busy CPU): past the usual silence,
# since an 800 ms pause is common mid-sentence, but short of a hold, since they may be finished.
_AWAIT_SILENCE_MS = {Sensitivity.HIGH: 900, None: 1200, Sensitivity.LOW: 1600}


class Band(Enum):
    """A signal's answer, read against its thresholds."""

    SURE = "sure"  # complete beyond doubt (the audio only): no need to wait for the words
    YES = "yes"  # complete
    MAYBE = "maybe"
    NO = "no"  # unfinished


class Action(Enum):
    END = "end"  # the turn is over (once the pause reaches min_silence_ms)
    SOON = "soon"  # over once the pause reaches the short silence
    WAIT = "wait"  # over once the pause reaches the usual silence
    AWAIT = "await"  # the words are not in yet: wait for them, a little past the usual silence
    HOLD = "hold"  # over only after the long silence: the words are unfinished


@dataclass(frozen=True)
class TurnRules:
    """How the audio's and the words' end-of-turn probabilities decide a candidate.

    ``table`` maps (audio band, text band) to an action; None is a signal that has not answered
    (yet, or at all: an LLM without next-token probabilities). Pairs it does not name WAIT."""

    audio_sure: float = 0.98  # Smart Turn above this: complete, whatever the words will say
    audio_yes: float = 0.5  # above this: complete
    audio_no: float = 0.1  # below this: unfinished
    text_yes: float = 0.15  # the LLM's P(turn ends after the words), above this: complete
    text_no: float = 0.1  # below this: unfinished
    table: dict[tuple[Band | None, Band | None], Action] = field(default_factory=dict)

    def bands(self, audio: float | None, text: float | None) -> tuple[Band | None, Band | None]:
        return _band(audio, self.audio_yes, self.audio_no, self.audio_sure), _band(
            text, self.text_yes, self.text_no
        )

    def action(self, audio: float | None, text: float | None) -> Action:
        return self.table.get(self.bands(audio, text), Action.WAIT)


def _band(p: float | None, yes: float, no: float, sure: float | None = None) -> Band | None:
    if p is None:
        return None
    if sure is not None and p > sure:
        return Band.SURE
    return Band.YES if p > yes else Band.NO if p < no else Band.MAYBE


S, Y, M, N = Band.SURE, Band.YES, Band.MAYBE, Band.NO
# Smart Turn alone, as before the words were heard: complete → end, anything else → silence.
AUDIO_ONLY_RULES = TurnRules(
    table={(audio, text): Action.END for audio in (S, Y) for text in (None, S, Y, M, N)}
)
# Tuned on the Kokoro clips of bench/turn_taking.py, checked on the held-out human recordings
# (docs/design.md, "Turn taking"). What the clips showed: Smart Turn scores a Kokoro voice's
# mid-sentence word gap 0.93-0.98 and its finished questions 0.97-0.99, but read human speech
# that is over only 0.005-0.02; the words' signal scores cut text 0.00-0.07 and finished text
# 0.19-0.81. So the voice may end a turn alone only when all but certain; otherwise the words
# decide, and plainly unfinished words hold the turn open past the usual silence.
TURN_RULES = TurnRules(
    table={
        **{(S, text): Action.END for text in (None, Y, M)},
        # The voice is not sure: wait for the words, even a little past the usual silence (on
        # a busy CPU they come late); their answer ends, shortens or holds the wait.
        **{(audio, None): Action.AWAIT for audio in (Y, M, N)},
        # Both agree it is over: end.
        (Y, Y): Action.END,
        (Y, M): Action.END,
        (M, Y): Action.END,
        (N, Y): Action.SOON,  # finished words, a voice that says no: a shorter pause will do
        # The words are unfinished: whatever the voice says, give the user time to go on.
        **{(audio, N): Action.HOLD for audio in (None, S, Y, M, N)},
    },
)


@dataclass(frozen=True)
class EndpointerConfig:
    start_sensitivity: Sensitivity | None = None
    end_sensitivity: Sensitivity | None = None
    prefix_padding_ms: int | None = None
    """Audio kept from before the detected start of speech; None → 300 ms (floor 96 ms)."""
    silence_duration_ms: int | None = None
    """Pause that ends a turn whatever the turn model says; None → by end sensitivity
    (HIGH 600 ms, unset 800 ms, LOW 1200 ms)."""
    candidate_silence_ms: int = 96
    """The pause at which the turn model and speculative ASR start (docs/design.md, "Turn
    taking", has the measurements that chose it)."""
    min_silence_ms: int = 200
    """The shortest pause that ends a turn, even one the models call complete (never more than
    the usual silence, so a shorter ``silenceDurationMs`` still ends it)."""
    turn_threshold: float | None = None
    """Smart Turn's "complete" threshold; None → the rules' ``audio_yes`` (0.5)."""
    resume_ms: int = 64
    rules: TurnRules = AUDIO_ONLY_RULES
    """``TURN_RULES`` when the caller hands back the words' signal too; the default is Smart
    Turn alone (an LLM that cannot give next-token probabilities)."""
    max_utterance_s: float | None = None
    """The longest utterance kept; past it the turn ends (``EndReason.MAX_LENGTH``). None: no
    bound."""

    @classmethod
    def from_setup(cls, detection: object | None) -> EndpointerConfig:
        """From anything shaped like the setup's ``automaticActivityDetection`` (attributes
        ``start_of_speech_sensitivity``, ``end_of_speech_sensitivity``, ``prefix_padding_ms``,
        ``silence_duration_ms``; missing or None means unset). Duck-typed, so this module never
        imports the protocol."""

        def get(name: str) -> object:
            return getattr(detection, name, None) if detection is not None else None

        prefix, silence = get("prefix_padding_ms"), get("silence_duration_ms")
        return cls(
            start_sensitivity=Sensitivity.parse(_str_or_none(get("start_of_speech_sensitivity"))),
            end_sensitivity=Sensitivity.parse(_str_or_none(get("end_of_speech_sensitivity"))),
            prefix_padding_ms=int(prefix) if isinstance(prefix, int | float) else None,
            silence_duration_ms=int(silence) if isinstance(silence, int | float) else None,
        )

    @property
    def speech_threshold(self) -> float:
        return _START[self.start_sensitivity].threshold

    @property
    def min_speech_ms(self) -> float:
        return _START[self.start_sensitivity].min_speech_ms

    @property
    def client_silence_ms(self) -> int | None:
        """The client's ``silenceDurationMs`` when it set one: it ends the turn, always."""
        if self.silence_duration_ms is not None and self.silence_duration_ms > 0:
            return self.silence_duration_ms
        return None

    @property
    def end_silence_ms(self) -> int:
        return self.client_silence_ms or _END_SILENCE_MS[self.end_sensitivity]

    def silence_for(self, action: Action) -> int:
        """The pause that ends the turn under ``action`` (END: the shortest one there is)."""
        usual = self.end_silence_ms
        if action is Action.END:
            return min(self.min_silence_ms, usual)
        if action is Action.SOON:
            return min(_SOON_SILENCE_MS[self.end_sensitivity], usual)
        longer = {Action.HOLD: _HOLD_SILENCE_MS, Action.AWAIT: _AWAIT_SILENCE_MS}.get(action)
        if longer is not None and self.client_silence_ms is None:
            return max(longer[self.end_sensitivity], usual)
        return usual

    @property
    def turn_rules(self) -> TurnRules:
        if self.turn_threshold is None:
            return self.rules
        return dataclasses.replace(self.rules, audio_yes=self.turn_threshold)

    @property
    def prefix_ms(self) -> int:
        padding = 300 if self.prefix_padding_ms is None else self.prefix_padding_ms
        return max(padding, _MIN_PREFIX_MS)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


class EndReason(Enum):
    TURN_MODEL = "turn_model"
    """The turn models (audio, words) called the turn complete after a short pause."""
    SILENCE = "silence"
    """The pause reached the silence duration."""
    STREAM_END = "stream_end"
    """The caller ended the stream mid-utterance (``flush``)."""
    MAX_LENGTH = "max_length"
    """The utterance reached ``max_utterance_s`` without a pause that ended it."""


@dataclass(frozen=True, eq=False)
class SpeechStarted:
    t: float
    """When the speech began (start of the first speech frame)."""
    confirmed_t: float
    """When the VAD confirmed it: now. Barge-in happens at this moment."""


@dataclass(frozen=True, eq=False)
class EndOfTurnCandidate:
    candidate_id: int
    t: float
    speech_end_t: float
    audio: np.ndarray = field(repr=False)


@dataclass(frozen=True, eq=False)
class SpeechResumed:
    candidate_id: int
    """The candidate whose turn prediction and speculative ASR are now void."""
    t: float


@dataclass(frozen=True, eq=False)
class TurnEnded:
    t: float
    speech_end_t: float
    reason: EndReason
    audio: np.ndarray = field(repr=False)
    candidate_id: int | None
    """The candidate this turn ended after; work started for it is still valid (only silence
    followed). None when the turn ended without one (``flush`` before any pause)."""


Event = SpeechStarted | EndOfTurnCandidate | SpeechResumed | TurnEnded


class SpeechProbability(Protocol):
    """A VAD stream: the speech probability of each 512-sample frame, in order."""

    def process(self, frame: np.ndarray) -> float: ...


class Endpointer:
    """One per audio stream. Not thread-safe: feed it from one place (the event loop is fine)."""

    def __init__(self, vad: SpeechProbability, config: EndpointerConfig | None = None) -> None:
        self.vad = vad
        self.config = config or EndpointerConfig()
        self._remainder = np.zeros(0, dtype=np.float32)
        self._frames_seen = 0
        prefix_frames = math.ceil(self.config.prefix_ms / FRAME_MS)
        self._prefix_frames = prefix_frames
        self._history: deque[np.ndarray] = deque(
            maxlen=prefix_frames + math.ceil(_MAX_PENDING_MS / FRAME_MS)
        )
        self._next_candidate_id = 1
        self._rules = self.config.turn_rules
        longest = self.config.max_utterance_s
        self._max_utterance_frames = (
            max(1, math.floor(longest * SAMPLE_RATE / FRAME_SAMPLES)) if longest else None
        )
        self._reset_utterance()

    # -- inputs ----------------------------------------------------------------------------

    def feed(self, audio: np.ndarray) -> list[Event]:
        """Take 16 kHz mono float32 audio of any length; return the events it caused, in order."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if len(self._remainder):
            audio = np.concatenate([self._remainder, audio])
        whole = len(audio) // FRAME_SAMPLES * FRAME_SAMPLES
        self._remainder = audio[whole:].copy()
        events: list[Event] = []
        for start in range(0, whole, FRAME_SAMPLES):
            frame = audio[start : start + FRAME_SAMPLES]
            events.extend(self._push(frame, self.vad.process(frame)))
        return events

    def on_turn_prediction(
        self, probability: float, candidate_id: int | None = None
    ) -> list[Event]:
        """The turn model's answer for a candidate. Ends the turn now if it says complete and
        the user has stayed silent since; an answer for a stale candidate is ignored. Pass the
        ``candidate_id``: without it the answer applies to the newest candidate, which may not be
        the audio it was computed on."""
        if not self._is_current(candidate_id):
            return []
        self._audio_p = probability
        return self._decide()

    def on_text_prediction(
        self, probability: float | None, candidate_id: int | None = None
    ) -> list[Event]:
        """The words' answer for a candidate: P(the turn ends after the speculative transcript),
        or None when there were no words to judge (then the words are neutral: neither yes nor
        no). Same rules for stale candidates."""
        if not self._is_current(candidate_id):
            return []
        rules = self._rules
        self._text_p = (
            probability if probability is not None else (rules.text_yes + rules.text_no) / 2
        )
        return self._decide()

    def ends_on_its_own(self) -> bool:
        """The current candidate's answers end the turn at the shortest pause, whatever comes
        next (no other signal is needed; only speech can still keep the turn open)."""
        if not self._candidate_open:
            return False
        return self._rules.action(self._audio_p, self._text_p) is Action.END

    def _is_current(self, candidate_id: int | None) -> bool:
        if not self._candidate_open:
            return False
        return candidate_id is None or candidate_id == self._candidate_id

    def _decide(self) -> list[Event]:
        action = self._rules.action(self._audio_p, self._text_p)
        self._end_after_ms = self.config.silence_for(action)
        # A shorter pause may already be over: end now, the models shortened the wait (else the
        # next frame that reaches it ends the turn, in _push).
        in_pause = self._pause_start is not None and not self._loud_run
        if in_pause and self._pause_ms() >= self._end_after_ms:
            by_model = action in (Action.END, Action.SOON)
            return [self._end(EndReason.TURN_MODEL if by_model else EndReason.SILENCE)]
        return []

    def flush(self) -> list[Event]:
        """The audio stream ended (``audioStreamEnd``): end an utterance in progress now."""
        self._remainder = np.zeros(0, dtype=np.float32)
        if self._speaking:
            return [self._end(EndReason.STREAM_END)]
        self._reset_utterance()
        return []

    # -- state for the caller --------------------------------------------------------------

    @property
    def time(self) -> float:
        """Seconds of audio processed (whole frames)."""
        return self._frames_seen * FRAME_SAMPLES / SAMPLE_RATE

    @property
    def in_speech(self) -> bool:
        """Between ``SpeechStarted`` and ``TurnEnded``."""
        return self._speaking

    def speech_duration_s(self) -> float:
        """Seconds since the current utterance's speech began (0 when not in speech)."""
        if not self._speaking or self._speech_start is None:
            return 0.0
        return (self._frames_seen - self._speech_start) * FRAME_SAMPLES / SAMPLE_RATE

    def onset_ms(self) -> float:
        """Speech heard toward a start not confirmed yet (0 when none, or in speech): what an
        instant barge-in keys on, before ``SpeechStarted``."""
        if self._speaking or self._onset_frame is None:
            return 0.0
        return self._speech_frames * FRAME_MS

    def voiced_ms(self) -> float:
        """Speech frames in the current utterance so far (pauses not counted)."""
        return self._voiced_frames * FRAME_MS if self._speaking else 0.0

    def pause_ms(self) -> float:
        """How long the current pause inside an utterance has lasted (0 while voiced)."""
        if not self._speaking or self._pause_start is None:
            return 0.0
        return (self._frames_seen - self._pause_start) * FRAME_MS

    def current_audio(self) -> np.ndarray:
        """The current utterance so far (with look-back), e.g. for partial transcripts."""
        if not self._speaking:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._utterance)

    # -- the state machine -----------------------------------------------------------------

    def _reset_utterance(self) -> None:
        self._speaking = False
        self._speech_start: int | None = None  # frame where the current utterance's speech began
        self._onset_frame: int | None = None  # first frame of a not-yet-confirmed start
        self._speech_frames = 0  # loud frames since that onset
        self._utterance: list[np.ndarray] = []
        self._pause_start: int | None = None  # first quiet frame of the current pause
        self._loud_run = 0  # loud frames in a row inside a pause
        self._voiced_frames = 0  # speech frames since the utterance began
        self._candidate_id: int | None = None
        self._candidate_open = False  # a candidate was sent and no speech came since
        self._reset_evidence()

    def _reset_evidence(self) -> None:
        self._audio_p: float | None = None  # the current candidate's answers
        self._text_p: float | None = None
        self._end_after_ms = self.config.end_silence_ms  # the pause that ends this turn

    def _pause_ms(self) -> float:
        assert self._pause_start is not None
        return (self._frames_seen - self._pause_start) * FRAME_MS

    def _push(self, frame: np.ndarray, probability: float) -> list[Event]:
        index = self._frames_seen
        self._frames_seen += 1
        frame = frame.copy()  # the caller may reuse its buffer
        if self._speaking:
            if self._max_utterance_frames and len(self._utterance) >= self._max_utterance_frames:
                # Checked before the frame is kept: the utterance never passes the bound. The
                # frame is heard afresh (the user may go on: that is a new utterance).
                ended = self._end(EndReason.MAX_LENGTH)
                self._history.append(frame)
                return [ended, *self._while_waiting(index, probability)]
            self._utterance.append(frame)
            return self._while_speaking(index, probability)
        self._history.append(frame)
        return self._while_waiting(index, probability)

    def _while_waiting(self, index: int, probability: float) -> list[Event]:
        threshold = self.config.speech_threshold
        if probability >= threshold:
            if self._onset_frame is None:
                self._onset_frame = index
            self._speech_frames += 1
        elif probability < threshold - _HYSTERESIS:
            self._onset_frame = None
            self._speech_frames = 0
        if self._onset_frame is None or self._speech_frames * FRAME_MS < self.config.min_speech_ms:
            return []
        # Confirmed: the utterance is the look-back before the onset plus everything since.
        onset = self._onset_frame
        keep = min(len(self._history), index - onset + 1 + self._prefix_frames)
        self._utterance = list(self._history)[-keep:]
        self._history.clear()
        self._speaking = True
        self._speech_start = onset
        self._voiced_frames = self._speech_frames
        self._onset_frame = None
        self._speech_frames = 0
        return [SpeechStarted(t=self._seconds(onset), confirmed_t=self._seconds(index + 1))]

    def _while_speaking(self, index: int, probability: float) -> list[Event]:
        config = self.config
        threshold = config.speech_threshold
        events: list[Event] = []
        if probability >= threshold:
            self._voiced_frames += 1
        if self._pause_start is None:
            if probability < threshold - _HYSTERESIS:
                self._pause_start = index
                self._loud_run = 0
            else:
                return events
        else:
            self._loud_run = self._loud_run + 1 if probability >= threshold else 0
            if self._loud_run * FRAME_MS >= config.resume_ms:
                if self._candidate_open and self._candidate_id is not None:
                    events.append(SpeechResumed(self._candidate_id, self._seconds(index + 1)))
                self._pause_start = None
                self._candidate_open = False
                self._reset_evidence()  # the next pause is judged on its own evidence
                return events

        pause_ms = (index + 1 - self._pause_start) * FRAME_MS
        candidate_ms = min(config.candidate_silence_ms, config.end_silence_ms)
        if not self._candidate_open and pause_ms >= candidate_ms:
            self._candidate_id = self._next_candidate_id
            self._next_candidate_id += 1
            self._candidate_open = True
            events.append(
                EndOfTurnCandidate(
                    candidate_id=self._candidate_id,
                    t=self._seconds(index + 1),
                    speech_end_t=self._seconds(self._pause_start),
                    audio=np.concatenate(self._utterance),
                )
            )
        if pause_ms >= self._end_after_ms and not self._loud_run:
            # Never on a loud frame: it may be the first of the words going on.
            # A pause shorter than the usual one ends the turn only because the models said so.
            shortened = self._end_after_ms < config.end_silence_ms
            events.append(self._end(EndReason.TURN_MODEL if shortened else EndReason.SILENCE))
        return events

    def _end(self, reason: EndReason) -> TurnEnded:
        now = self._frames_seen
        speech_end = self._pause_start if self._pause_start is not None else now
        event = TurnEnded(
            t=self._seconds(now),
            speech_end_t=self._seconds(speech_end),
            reason=reason,
            audio=np.concatenate(self._utterance),
            candidate_id=self._candidate_id if self._candidate_open else None,
        )
        self._reset_utterance()
        return event

    @staticmethod
    def _seconds(frame_index: int) -> float:
        return frame_index * FRAME_SAMPLES / SAMPLE_RATE
