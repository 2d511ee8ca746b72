"""Listening: the user's audio in, turns and transcripts out.

Audio blobs are decoded and resampled to 16 kHz, framed for the VAD, and fed to the endpointer.
Speech recognition runs while the user talks (partials every ~second, in a worker thread), the
end-of-turn model is asked at the first short pause, and the final transcript is started
speculatively at that same moment so its latency overlaps the decision.

Partials serve the client's input transcription, and the LLM: where the words' end-of-turn
signal runs on it, each partial's words are prefilled while the user talks and no reply is
running (session/text_turn.py), so the pause's signal and reply prefill only the last words.

In manual mode (``automaticActivityDetection.disabled``) the client's ``activityStart`` /
``activityEnd`` bracket each turn instead.

Audio faster than real time is paced (session/pace.py): past a burst, a session's blobs are
taken at ``audio_pace`` times real time, the reader waiting before each, so one uploader cannot
keep the shared VAD and speech pool busy for itself.

A turn holds at most ``max_turn_audio_s`` of audio (docs/limits.md), checked before a blob's
samples are kept. Between ``activityStart`` and ``activityEnd`` the client drew the turn, so one
past the bound is its mistake: 1008. With automatic detection our VAD drew it (a television or
music need never pause), so the endpointer ends the turn there instead and the session goes on.

Barge-in rules (speech while our reply plays), in two steps so that stopping is instant and a
false alarm costs nothing:

* SUSPECT: ``barge_in_onset_s`` of sound (the VAD's first frames, before it would confirm a
  start) pauses the reply: the client gets ``interrupted`` and flushes, the reply goes on being
  made, unsent. The user hears the reply stop at once, whatever comes next.
* CONFIRM: speech longer than any backchannel (``CONFIRM_VOICED_MS`` voiced, or the echo guard
  plus 100 ms if that is longer) cuts the reply; so does a short utterance whose words, once
  recognised, ask us to stop ("stop", "wait", "no": session/echo.py). History keeps what was
  heard before the pause.
* CLEAR: a sound that fades before it is speech (a cough, a click, a door), or a short
  utterance that is only a backchannel ("mm-hm", "yeah", "I see") or our own echo: the reply
  resumes where playback stopped, and the sound is no turn of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import numpy as np

from ..audio.coalesce import PcmCoalescer
from ..audio.decode import AudioDecoder, AudioFormatError, AudioLimitError
from ..audio.pcm import INPUT_RATE, quietest_cut
from ..engines.listening import (
    EndOfTurnCandidate,
    Endpointer,
    EndReason,
    SpeechResumed,
    SpeechStarted,
    TurnEnded,
)
from ..protocol.errors import CloseCode, ProtocolError
from .clock import MONOTONIC, Clock
from .config import SessionConfig
from .echo import is_backchannel, is_own_echo
from .pace import AudioPace
from .recognition import Recognition
from .services import SpeechServices
from .text_turn import endpointer_config, prefill_words, words_end_probability
from .trace import TurnTrace

log = logging.getLogger("openlive.listener")

PARTIAL_EVERY_S = 1.0
# A partial re-reads at most this much of an utterance (one Whisper window, less margin). Past
# it, the oldest part is cut at its quietest moment and recognised once, for good: a partial
# near the end of a ten-minute turn then costs what one near its start does (docs/limits.md).
PARTIAL_SPAN_S = 20.0
PARTIAL_CUT_SEARCH_S = 5.0
# "mm-hm", "uh-huh", "okay" last 250–600 ms voiced; speech past that is a turn of its own.
CONFIRM_VOICED_MS = 600


class BargeIn(Enum):
    SUSPECTED = "suspected"  # the reply is paused
    CONFIRMED = "confirmed"  # the reply is cut


VAD_SLICE_SAMPLES = INPUT_RATE // 4  # 250 ms: a few ms of VAD between yields to the loop


class Listener:
    def __init__(
        self,
        speech: SpeechServices,
        config: SessionConfig,
        *,
        on_speech_started: Callable[[], Awaitable[None]],
        on_speech_suspected: Callable[[], Awaitable[None]],
        on_speech_cleared: Callable[[], Awaitable[None]],
        on_guess: Callable[[str], Awaitable[None]] | None = None,
        on_guess_void: Callable[[], None] | None = None,
        on_transcript: Callable[[str, bool], None],
        on_user_turn: Callable[[str, TurnTrace], Awaitable[None]],
        model_is_audible: Callable[[], bool],
        recent_speech: Callable[[], str],
        conversation: Callable[[], list[dict[str, Any]]] = list,
        reply_idle: Callable[[], bool] = lambda: True,
        echo_guard_s: float = 0.25,
        barge_in_onset_s: float = 0.096,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.speech = speech
        self.config = config
        self._on_speech_started = on_speech_started
        self._on_speech_suspected = on_speech_suspected
        self._on_speech_cleared = on_speech_cleared
        self._on_guess = on_guess  # the speculative transcript at a pause (speculation.py)
        self._on_guess_void = on_guess_void or (lambda: None)
        self._barge_in_onset_ms = barge_in_onset_s * 1000
        self._on_transcript = on_transcript
        self._on_user_turn = on_user_turn
        self._model_is_audible = model_is_audible
        self._recent_speech = recent_speech
        self._conversation = conversation  # the history the LLM sees, for the words' signal
        self._reply_idle = reply_idle  # no reply is being made: the LLM is free to prefill
        self._echo_guard_s = echo_guard_s
        self._clock = clock
        self._overlapped_reply = False  # the utterance began while our audio was playing
        self._language = config.recognition_language
        self._turns: set[asyncio.Task[Any]] = set()  # spoken turns being finished (final ASR)
        self._decoder = AudioDecoder(speech.max_audio_message_s, speech.max_resamplers)
        # ASR jobs on the shared pool: cancelled with their turn, and all when we close.
        self._recognition = Recognition(speech.asr, speech.asr_executor, speech.asr_load)
        self._coalescer = PcmCoalescer(speech.coalesce_ms)  # Firebase Web's 2.7 ms blobs
        self._pace = AudioPace(clock, speed=speech.audio_pace, burst_s=speech.audio_burst_s)
        self._endpointer = (
            Endpointer(speech.vad.new_stream(), endpointer_config(config.detection, speech))
            if config.automatic_activity_detection
            else None
        )
        self._manual_audio: list[np.ndarray] | None = None
        self._manual_samples = 0  # in _manual_audio, against the turn's bound
        turn_s = speech.max_turn_audio_s
        self._max_turn_samples = int(turn_s * INPUT_RATE) if turn_s > 0 else None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._partial: asyncio.Task[None] | None = None
        self._prefill: asyncio.Task[None] | None = None
        self._partial_mark = 0.0
        self._utterance = 0  # counts utterances, so a partial of an old one changes nothing
        self._settled_text = ""  # the words of the utterance's head, recognised for good
        self._settled_samples = 0  # ...and how much of its audio that head is
        self._emitted_words: list[str] = []
        self._speculative: dict[int, asyncio.Future[str]] = {}
        self._barge_in: BargeIn | None = None

    # -- input from the session ---------------------------------------------------------------

    async def feed(self, data: bytes, mime_type: str) -> None:
        for chunk, chunk_type in self._coalescer.add(data, mime_type):
            await self._feed(chunk, chunk_type)

    async def _feed(self, data: bytes, mime_type: str) -> None:
        try:
            if self._decoder.is_encoded(mime_type):  # FFmpeg decoding: off the event loop
                samples = await asyncio.to_thread(self._decoder.decode, data, mime_type)
            else:
                samples = self._decoder.decode(data, mime_type)
        except AudioFormatError as error:
            raise _audio_error(error) from None
        await self._pace.take(len(samples) / INPUT_RATE)  # decoded and bounded; not yet heard
        if self._endpointer is None:
            if self._manual_audio is not None:
                self._check_turn_audio(len(samples))
                self._manual_audio.append(samples)
                self._manual_samples += len(samples)
            return
        # One large blob is endpointed in slices, yielding between them: the VAD of a minute of
        # audio would otherwise hold the event loop (every session) for its whole run.
        for start in range(0, len(samples), VAD_SLICE_SAMPLES):
            if start:
                await asyncio.sleep(0)
            for event in self._endpointer.feed(samples[start : start + VAD_SLICE_SAMPLES]):
                await self._on_event(event)
        await self._check_barge_in()
        self._maybe_partial()

    async def activity_start(self) -> None:
        if self._endpointer is not None:
            log.warning("activityStart ignored: automatic activity detection is on")
            return
        self._manual_audio = []
        self._manual_samples = 0
        self._reset_transcript()
        await self._on_speech_started()

    async def activity_end(self) -> None:
        await self._flush_held()
        if self._endpointer is not None or self._manual_audio is None:
            return
        audio = np.concatenate(self._manual_audio) if self._manual_audio else np.zeros(0)
        self._manual_audio, self._manual_samples = None, 0
        now = self._clock.now()
        trace = TurnTrace(speech_end=now, turn_end=now)
        self._spawn_turn(self._finish_turn(audio.astype(np.float32), trace))

    async def audio_stream_end(self) -> None:
        """The microphone closed: whatever was being said is the end of the turn."""
        await self._flush_held()
        if self._endpointer is None:
            return
        for event in self._endpointer.flush():
            await self._on_event(event)

    def _check_turn_audio(self, more: int) -> None:
        """A manual turn may not pass its bound (the module docstring says why 1008)."""
        limit = self._max_turn_samples
        if limit is not None and self._manual_samples + more > limit:
            raise ProtocolError(
                f"More than {limit / INPUT_RATE:g} s of audio between activityStart and "
                "activityEnd.",
                CloseCode.POLICY_VIOLATION,
            )

    async def _flush_held(self) -> None:
        for chunk, chunk_type in self._coalescer.flush():
            await self._feed(chunk, chunk_type)

    async def aclose(self) -> None:
        self._recognition.close()  # no job of ours runs on in the shared pool
        self._decoder.close()  # a WebM/Ogg stream's decoder thread
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    # -- endpointing --------------------------------------------------------------------------

    async def _on_event(self, event: object) -> None:
        match event:
            case SpeechStarted():
                self._reset_transcript()
                self._overlapped_reply = self._barge_in is not None or self._model_is_audible()
                log.debug("speech started (over the reply: %s)", self._overlapped_reply)
                if not self._overlapped_reply:
                    await self._confirm_barge_in()
                elif self._barge_in is None:
                    # Over our reply: it may be a "mm-hm", or our own voice leaking back
                    # through the microphone. Pause now; length or words decide.
                    await self._suspect_barge_in()
            case EndOfTurnCandidate(candidate_id=candidate, audio=audio):
                # Start recognition now, speculatively, so it overlaps the turn decision.
                recognised = self._speculative[candidate] = self._spawn(
                    self._recognise_candidate(candidate, audio)
                )
                # The words' signal, when asked, has the LLM first: the turn's end waits on it,
                # and a guess prefilling beside it slowed it past its 1.2 s wait on 2 cores.
                words_settled = asyncio.Event()
                if self._on_guess is not None:
                    self._spawn(self._guess(candidate, recognised, words_settled))
                self._spawn(self._predict_turn_end(candidate, audio, words_settled))
            case SpeechResumed(candidate_id=candidate):
                if (stale := self._speculative.pop(candidate, None)) is not None:
                    stale.cancel()
                self._on_guess_void()
            case TurnEnded(audio=audio, candidate_id=candidate, speech_end_t=speech_end_t):
                if event.reason is EndReason.MAX_LENGTH:
                    log.info("a turn of %.0f s with no pause ended there", len(audio) / INPUT_RATE)
                # A short utterance over the reply: its words decide (_finish_turn).
                undecided = self._barge_in is BargeIn.SUSPECTED
                if not undecided:
                    self._barge_in = None
                now = self._clock.now()
                lag = self._endpointer.time - speech_end_t if self._endpointer else 0.0
                trace = TurnTrace(speech_end=now - lag, turn_end=now)
                speculative = self._speculative.pop(candidate, None) if candidate else None
                for stale in self._speculative.values():
                    stale.cancel()
                self._speculative.clear()
                self._spawn_turn(self._finish_turn(audio, trace, speculative, undecided))

    async def _check_barge_in(self) -> None:
        """The barge-in rules (top of this file), after each piece of audio."""
        endpointer = self._endpointer
        if endpointer is None:
            return
        if self._barge_in is None:
            # Sound starting over the reply, or the reply starting (or resuming) over speech.
            onset = endpointer.onset_ms() >= self._barge_in_onset_ms
            voiced_now = endpointer.in_speech and not endpointer.pause_ms()
            if (onset or voiced_now) and self._model_is_audible():
                log.debug("sound over the reply (%.0f ms of it): paused", endpointer.onset_ms())
                await self._suspect_barge_in()
            return
        if self._barge_in is not BargeIn.SUSPECTED:
            return
        long_enough = max(CONFIRM_VOICED_MS, (self._echo_guard_s + 0.1) * 1000)
        if endpointer.in_speech and endpointer.voiced_ms() >= long_enough:
            await self._confirm_barge_in()
        elif not (endpointer.in_speech or endpointer.onset_ms() or self._turns):
            await self._clear_barge_in()  # the sound faded before it was speech

    async def _suspect_barge_in(self) -> None:
        self._barge_in = BargeIn.SUSPECTED
        await self._on_speech_suspected()

    async def _confirm_barge_in(self) -> None:
        self._barge_in = BargeIn.CONFIRMED
        await self._on_speech_started()
        if not (self._endpointer and self._endpointer.in_speech):
            self._barge_in = None  # decided after the utterance: nothing is pending any more

    async def _clear_barge_in(self) -> None:
        self._barge_in = None
        await self._on_speech_cleared()

    async def _guess(
        self, candidate: int, recognised: asyncio.Future[str], words_settled: asyncio.Event
    ) -> None:
        """Hand the speculative transcript on while its pause still holds, once the words'
        signal for this pause (if it is asked) has answered."""
        text = await recognised
        await words_settled.wait()
        if self._speculative.get(candidate) is recognised and self._on_guess is not None:
            await self._on_guess(text)

    async def _predict_turn_end(
        self, candidate: int, audio: np.ndarray, words_settled: asyncio.Event
    ) -> None:
        asks_words = False
        try:
            asks_words = await self._predict_voice_end(candidate, audio, words_settled)
        finally:
            if not asks_words:
                words_settled.set()

    async def _predict_voice_end(
        self, candidate: int, audio: np.ndarray, words_settled: asyncio.Event
    ) -> bool:
        """The voice's signal; whether the words' signal was asked too."""
        loop = asyncio.get_running_loop()
        transcript = self._speculative.get(candidate)
        probability = await loop.run_in_executor(
            self.speech.asr_executor, self.speech.turn.predict, audio
        )
        log.debug("candidate %d: the voice says %.3f", candidate, probability)
        if self._endpointer is None:
            return False
        events = self._endpointer.on_turn_prediction(probability, candidate)
        # The words are asked only when the voice left the turn open: a words request still
        # running beside the reply's own prefill slowed its first token by ~0.5 s (2 cores).
        # The transcript they need is rarely ready before the voice answers anyway.
        # A voice that ends the turn at the shortest pause, not reached yet, needs no words.
        ended = any(isinstance(event, TurnEnded) for event in events)
        ended = ended or self._endpointer.ends_on_its_own()
        asks_words = not ended and self.speech.text_turn is not None and transcript is not None
        if asks_words:
            assert transcript is not None
            self._spawn(self._predict_words_end(candidate, transcript, words_settled))
        for event in events:
            await self._on_event(event)
        return asks_words

    async def _predict_words_end(
        self, candidate: int, transcript: asyncio.Future[str], words_settled: asyncio.Event
    ) -> None:
        """The words' signal, once the candidate's speculative transcript is in."""
        try:
            probability = await words_end_probability(
                self.speech.text_turn, self._conversation, transcript, self.speech.asr_executor
            )
        finally:
            words_settled.set()
        log.debug("candidate %d: the words say %s", candidate, probability)
        if self._endpointer is None:
            return
        for event in self._endpointer.on_text_prediction(probability, candidate):
            await self._on_event(event)

    # -- recognition --------------------------------------------------------------------------

    async def recognise_clip(self, data: bytes, mime_type: str) -> str:
        """A whole recording (a ``clientContent`` audio part): the words in it, recognised as a
        manual turn's audio is. It has its own decoder: it is no piece of the live stream."""
        decoder = AudioDecoder(self.speech.max_audio_message_s)
        try:
            samples = await asyncio.to_thread(decoder.decode, data, mime_type or "audio/pcm")
        except AudioFormatError as error:
            raise _audio_error(error) from None
        finally:
            decoder.close()
        return await self._recognise(samples) if len(samples) >= INPUT_RATE // 10 else ""

    async def _recognise_candidate(self, candidate: int, audio: np.ndarray) -> str:
        started = self._clock.now()
        text = await self._recognise(audio)
        elapsed_ms = (self._clock.now() - started) * 1000
        log.debug("candidate %d: heard %r in %.0f ms", candidate, text[-40:], elapsed_ms)
        return text

    async def _recognise(self, audio: np.ndarray) -> str:
        transcript = await self._recognition.transcribe(audio, self._language)
        text = transcript.text.strip()
        if self._language is None and transcript.language and len(text.split()) >= 3:
            # Detection on a few seconds of audio can flip (English heard as French); once a
            # clear turn has told us the language, keep it. languageCode fixes it up front.
            self._language = transcript.language
        return text

    async def _finish_turn(
        self,
        audio: np.ndarray,
        trace: TurnTrace,
        speculative: asyncio.Future[str] | None = None,
        barge_in_undecided: bool = False,
    ) -> None:
        if len(audio) < INPUT_RATE // 10:
            if barge_in_undecided:
                await self._clear_barge_in()
            return
        # Only silence followed the candidate, so its speculative transcript is the final one.
        text = await speculative if speculative is not None else await self._recognise(audio)
        trace.transcript_ready = self._clock.now()
        echo = self._overlapped_reply and is_own_echo(text, self._recent_speech())
        if barge_in_undecided and (echo or is_backchannel(text)):
            log.info("not an interruption (%r): the reply plays on", text[:80])
            self._reset_transcript()
            self._on_guess_void()
            await self._clear_barge_in()
            return
        if barge_in_undecided:
            await self._confirm_barge_in()  # "stop", "wait": short, and meant
        if echo:
            log.info("dropped a turn that was our own reply coming back: %r", text[:80])
            self._reset_transcript()
            self._on_guess_void()
            return
        self._emit_transcript(text, finished=True)
        if text:
            await self._on_user_turn(text, trace)

    def _maybe_partial(self) -> None:
        """Re-run recognition on the growing utterance about once a second, one run at a time:
        for the client's input transcription, or for the LLM's prefill of the words so far."""
        endpointer = self._endpointer
        if endpointer is None or not endpointer.in_speech:
            return
        if not (self.config.input_transcription or self._may_prefill(partial=True)):
            return
        duration = endpointer.speech_duration_s()
        if duration - self._partial_mark < PARTIAL_EVERY_S:
            return
        if self._partial is not None and not self._partial.done():
            return
        self._partial_mark = duration
        audio = endpointer.current_audio()
        self._partial = self._spawn(self._run_partial(audio))

    async def _run_partial(self, audio: np.ndarray) -> None:
        utterance = self._utterance
        span_limit = int(PARTIAL_SPAN_S * INPUT_RATE)
        while len(audio) - self._settled_samples > span_limit:
            head = audio[self._settled_samples : self._settled_samples + span_limit]
            cut = quietest_cut(head, INPUT_RATE, search_s=PARTIAL_CUT_SEARCH_S)
            words = await self._recognise(head[:cut])
            if utterance != self._utterance:
                return
            self._settled_text = f"{self._settled_text} {words}".strip()
            self._settled_samples += cut
        text = await self._recognise(audio[self._settled_samples :])
        if utterance != self._utterance:
            return
        if self._endpointer is not None and self._endpointer.in_speech:
            text = f"{self._settled_text} {text}".strip()
            if self.config.input_transcription:
                self._emit_transcript(text, finished=False, stable_only=True)
            if self._may_prefill() and (self._prefill is None or self._prefill.done()):
                self._prefill = self._spawn(
                    prefill_words(self.speech.text_turn, self._conversation, text)
                )

    def _may_prefill(self, *, partial: bool = False) -> bool:
        """The words so far may be prefilled: the words' signal runs on the LLM, which no reply
        is using, and this utterance did not start over a reply (which may still hold it). A
        partial run for the prefill alone also waits for an idle recognition pool: a head start
        must never delay another session's transcript."""
        if partial and self.speech.asr_load.jobs:
            return False
        return (
            self.speech.text_turn is not None and not self._overlapped_reply and self._reply_idle()
        )

    def _reset_transcript(self) -> None:
        self._emitted_words = []
        self._partial_mark = 0.0
        self._utterance += 1
        self._settled_text, self._settled_samples = "", 0
        self._last_partial: list[str] = []

    def _emit_transcript(self, text: str, *, finished: bool, stable_only: bool = False) -> None:
        """Send only new words. A partial's last word may still change, so it waits until the
        next partial agrees; the final sends whatever is left."""
        words = text.split()
        if stable_only:
            previous = getattr(self, "_last_partial", [])
            self._last_partial = words
            stable = 0
            while stable < min(len(words), len(previous)) and words[stable] == previous[stable]:
                stable += 1
            words = words[:stable]
        new = words[len(self._emitted_words) :]
        if stable_only and words[: len(self._emitted_words)] != self._emitted_words:
            return  # the recogniser changed its mind about earlier words; wait for the final
        if new or finished:
            prefix = " " if self._emitted_words and new else ""
            self._on_transcript(prefix + " ".join(new), finished)
            self._emitted_words = words if not finished else []

    async def settle(self) -> None:
        """Wait until every spoken turn that has ended is recognised and handed on, so input
        that comes after it (typed text) is answered after it too."""
        if self._turns:
            await asyncio.gather(*list(self._turns), return_exceptions=True)

    # -- tasks --------------------------------------------------------------------------------

    def _spawn_turn(self, coroutine: Awaitable[Any]) -> None:
        task = self._spawn(coroutine)
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._track(task)
        return task

    def _track(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("listener task failed", exc_info=task.exception())


def _audio_error(error: AudioFormatError) -> ProtocolError:
    """A malformed blob is 1007; one past a limit (docs/limits.md) is 1008."""
    limit = isinstance(error, AudioLimitError)
    return ProtocolError(
        str(error), CloseCode.POLICY_VIOLATION if limit else CloseCode.INVALID_PAYLOAD
    )
