"""Speaking a reply: LLM text → clauses → TTS (worker threads) → ≤ 200 ms audio messages.

Synthesis starts on the first complete clause while the LLM is still writing the rest, and every
chunk is recorded on the playback clock so an interruption can tell what the user actually heard.
If synthesis falls behind real time (or the quality engine fails), the rest of the reply switches
to the fast engine: a plainer voice beats a stalled reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from ..audio.clock import PlaybackClock
from ..audio.pcm import OUTPUT_MIME, OUTPUT_RATE
from ..engines.tts.base import StreamingTTS, TTSEngine
from ..engines.tts.text import ClauseSplitter, speakable
from ..protocol.b64 import encode_standard
from ..protocol.server_messages import (
    InlineData,
    ModelTurn,
    ServerContent,
    ServerMessage,
    ServerPart,
    Transcription,
)
from .clock import Clock
from .outbox import Emit, Outgoing
from .pieces import ModelText, Piece

log = logging.getLogger("openlive.speech")

CHUNK_SAMPLES = OUTPUT_RATE // 5  # 200 ms: the most one message may carry
FIRST_CLAUSE_WORDS = 4  # Kokoro: ~0.2 s fixed + ~0.07 s a word on one core; speak soon


def first_clause_words(tts: TTSEngine) -> int:
    """How many words the first clause may wait for: Kokoro sets its own from the warm-up on
    this CPU (engines/tts/calibrate.py); speculation cuts its guess's first clause the same."""
    return int(getattr(tts, "first_clause_words", FIRST_CLAUSE_WORDS))


@dataclass
class SpokenClause:
    text: str
    source: type[Piece]  # ModelText or Filler: history keeps only the model's own words
    step: int  # the reply's request that wrote it (ModelText.step; a filler's, the one it waits in)
    samples: int = 0  # of its audio, all of it (sent or not)
    pcm: bytes = b""  # kept while the reply runs: a false barge-in sends its unheard rest again
    transcribed: bool = False  # its outputTranscription was sent


class SpeechOutput:
    """Speaking one reply: the ``ReplyOutput`` of audio sessions (session/output.py)."""

    def __init__(
        self,
        *,
        tts: TTSEngine,
        fast_tts: TTSEngine | None,
        voice: str,
        language: str | None,
        executor: Executor,
        emit: Emit,
        clock: Clock,
        transcribe: bool = False,
        prefetched: dict[str, asyncio.Future[np.ndarray]] | None = None,
    ) -> None:
        self.tts = tts
        self.fast_tts = fast_tts
        self.voice = voice
        self.language = language
        self.executor = executor
        self._emit = emit
        self._clock = clock
        self._transcribe = transcribe  # outputAudioTranscription: the words as they are spoken
        # Clauses synthesised ahead by a right guess (session/speculation.py), by their text.
        self._prefetched = prefetched if prefetched is not None else {}
        self.playback = PlaybackClock(OUTPUT_RATE)
        self.clauses: list[SpokenClause] = []
        self.fell_back = False
        self.first_audio_at: float | None = None
        self._making = False  # deliver() runs: more of the reply may come
        self.paused = False
        self._resumed = asyncio.Event()
        self._queued: list[Outgoing] = []  # audio messages that may not be sent yet

    async def deliver(self, pieces: AsyncIterator[Piece]) -> None:
        """Speak the pieces as they stream in. A clause never mixes the model's words with a
        filler, nor the words of two requests: each clause knows where its words came from."""
        queue: asyncio.Queue[tuple[str, type[Piece], int] | None] = asyncio.Queue()

        async def split() -> None:
            splitter = ClauseSplitter(
                first_clause_words=first_clause_words(self.tts),
                next_clause_words=getattr(self.tts, "next_clause_words", None),
            )
            source: tuple[type[Piece], int] = (ModelText, 0)
            try:
                async for piece in pieces:
                    step = piece.step if isinstance(piece, ModelText) else source[1]
                    if (type(piece), step) != source:
                        for clause in splitter.flush():
                            queue.put_nowait((clause, *source))
                        source = (type(piece), step)
                    for clause in splitter.feed(piece.text):
                        queue.put_nowait((clause, *source))
                for clause in splitter.flush():
                    queue.put_nowait((clause, *source))
            finally:
                queue.put_nowait(None)

        async def synthesize() -> None:
            while (item := await queue.get()) is not None:
                clause, kind, step = item
                text = speakable(clause)
                if text:
                    await self._speak_clause(SpokenClause(text, kind, step))

        self._making = True
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(split())
                group.create_task(synthesize())
        finally:
            self._making = False

    async def _speak_clause(self, clause: SpokenClause) -> None:
        loop = asyncio.get_running_loop()
        text = clause.text
        engine = self.fast_tts if (self.fell_back and self.fast_tts) else self.tts
        if isinstance(engine, StreamingTTS):
            if await self._speak_streamed(clause, engine):
                return
            assert self.fast_tts is not None  # it failed, and the fast voice takes over
            engine = self.fast_tts
        started = self._clock.now()
        ahead = self._prefetched.pop(text, None) if engine is self.tts else None
        try:
            if ahead is not None:
                audio = await ahead
            else:
                audio = await loop.run_in_executor(
                    self.executor,
                    lambda: engine.synthesize(text, voice=self.voice, language=self.language),
                )
        except Exception:
            fast_tts = self.fast_tts
            if engine is fast_tts or fast_tts is None:
                raise
            log.exception("quality TTS failed; switching this reply to the fast voice")
            self.fell_back = True
            audio = await loop.run_in_executor(
                self.executor,
                lambda: fast_tts.synthesize(text, voice=self.voice, language=self.language),
            )
        self._maybe_fall_back(self._clock.now() - started, len(audio))
        self._start_clause(clause)
        self._add_audio(clause, audio)

    async def _speak_streamed(self, clause: SpokenClause, engine: StreamingTTS) -> bool:
        """Send a remote engine's audio as it arrives. False when it failed before any audio
        and the fast voice can say the clause instead (and the rest of the reply)."""
        started = False
        try:
            async for audio in engine.stream(clause.text, voice=self.voice, language=self.language):
                if not started:
                    self._start_clause(clause)
                    started = True
                self._add_audio(clause, audio)
        except Exception:
            if started or self.fast_tts is None or engine is self.fast_tts:
                raise
            log.exception("remote TTS failed; switching this reply to the fast voice")
            self.fell_back = True
            return False
        return True

    def _start_clause(self, clause: SpokenClause) -> None:
        self.clauses.append(clause)

    def _add_audio(self, clause: SpokenClause, audio: np.ndarray) -> None:
        """The next audio of the last clause started: kept (a false barge-in sends its unheard
        rest again), and sent unless the reply is paused."""
        offset = len(clause.pcm)
        clause.pcm += np.asarray(audio, dtype="<i2").tobytes()
        clause.samples = len(clause.pcm) // 2
        if not self.paused:
            self._send(len(self.clauses) - 1, offset)

    def _send(self, index: int, offset: int) -> None:
        """Queue clause ``index``'s audio from byte ``offset`` on, in ≤ 200 ms messages (its
        transcript first, the first time)."""
        clause = self.clauses[index]
        if self._transcribe and not clause.transcribed:
            clause.transcribed = True
            transcript = Transcription(text=clause.text + " ")
            self._emit(ServerMessage(server_content=ServerContent(output_transcription=transcript)))
        pcm = clause.pcm
        step = CHUNK_SAMPLES * 2
        self._queued = [item for item in self._queued if not item.sent]
        for start in range(offset, len(pcm), step):
            piece = pcm[start : start + step]
            now = self._clock.now()
            if self.first_audio_at is None:
                self.first_audio_at = now
            self.playback.on_sent(now, len(piece) // 2, tag=index)
            data = InlineData(mime_type=OUTPUT_MIME, data=encode_standard(piece))
            turn = ModelTurn(parts=[ServerPart(inline_data=data)])
            message = ServerMessage(server_content=ServerContent(model_turn=turn))
            self._queued.append(self._emit(message))

    # -- pausing: the first sound of a possible barge-in --------------------------------------

    def pause(self, now: float) -> None:
        """Stop playback at ``now`` (the client is told to flush): audio not yet sent is
        withdrawn, and synthesis goes on into the clauses, unsent, until ``resume``."""
        if self.paused:
            return
        self.paused = True
        for item in self._queued:
            if not item.sent:
                item.dropped = True
        self._queued = []
        self.playback.stop(now)
        self._resumed.clear()

    def resume(self, now: float) -> None:
        """It was a false alarm: send again, from where playback stopped, what the client
        flushed, then every clause made since, as if nothing had happened."""
        if not self.paused:
            return
        self.paused = False
        played = self.playback.played_seconds_by_tag(now)
        for index, clause in enumerate(self.clauses):
            heard = round(played.get(index, 0.0) * OUTPUT_RATE)
            if heard < clause.samples:
                self._send(index, heard * 2)
        self._resumed.set()

    async def played_out(self) -> None:
        """Return once the client has played everything of the reply (a pause waits)."""
        while True:
            if self.paused:
                await self._resumed.wait()
                continue
            end = self.playback.end_time()
            now = self._clock.now()
            if end is None or end <= now:
                return
            await self._clock.sleep(end - now)

    def _maybe_fall_back(self, synthesis_s: float, samples: int) -> None:
        if self.fell_back or self.fast_tts is None or self.fast_tts is self.tts:
            return
        # Only a clause that took longer to make than to play means synthesis cannot keep up;
        # a gap after a short first clause is expected and does not switch voices mid-reply.
        # The first clause is never the judge: it is the shortest, so the engine's fixed cost
        # weighs most in it, and no audio plays ahead that it had to keep up with. Beside the
        # decoding LLM on 2 cores, Kokoro's 2-word first clause took about as long as its own
        # audio in 5 of 18 turns and handed replies to the fast voice that later clauses would
        # have kept in the voice asked for.
        if not self.clauses:
            return
        audio_s = samples / OUTPUT_RATE
        if synthesis_s > audio_s:
            log.warning(
                "TTS slower than real time (%.2fs for %.2fs of audio); fast voice for the rest "
                "of this reply",
                synthesis_s,
                audio_s,
            )
            self.fell_back = True

    def heard_model_text(self, now: float, *, since_step: int) -> str:
        """Whole clauses played by ``now``, then the played share of the next one's words; of
        those, the model's own from request ``since_step`` on."""
        played = self.playback.played_seconds_by_tag(now)
        heard: list[str] = []
        for index, clause in enumerate(self.clauses):
            total = clause.samples / OUTPUT_RATE
            fraction = min(1.0, played.get(index, 0.0) / total) if total else 1.0
            words = clause.text.split()
            count = len(words) if fraction >= 0.999 else int(len(words) * fraction)
            if count and clause.source is ModelText and clause.step >= since_step:
                heard.append(" ".join(words[:count]))
            if count < len(words):
                break
        return " ".join(heard)

    def playback_end(self) -> float | None:
        return self.playback.end_time()

    def is_audible(self, now: float) -> bool:
        """The user hears the reply now, or has heard its start and waits for its next clause
        (a clause made after the one before it played out): sound from them in that gap is
        them talking over the reply, and pauses it as at once as it would mid-clause."""
        between_clauses = self._making and self.first_audio_at is not None
        return self.playback.is_playing(now) or between_clauses

    def spoken_text(self) -> str:
        return " ".join(clause.text for clause in self.clauses)
