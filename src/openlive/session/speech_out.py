"""Speaking a reply: LLM text → clauses → TTS (worker threads) → ≤ 200 ms audio messages.

Synthesis starts on the first complete clause while the LLM is still writing the rest, and every
chunk is recorded on the playback clock so an interruption can tell what the user actually heard.
If synthesis falls behind real time (or the quality engine fails), the rest of the reply switches
to the fast engine: a plainer voice beats a stalled reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from ..audio.clock import PlaybackClock
from ..audio.pcm import OUTPUT_RATE
from ..engines.tts.base import TTSEngine
from ..engines.tts.text import ClauseSplitter, speakable
from ..protocol.b64 import encode_standard

log = logging.getLogger("openlive.speech")

CHUNK_SAMPLES = OUTPUT_RATE // 5  # 200 ms: the most one message may carry
FIRST_CLAUSE_WORDS = 4  # Kokoro: ~0.2 s fixed + ~0.07 s a word on one core; speak soon


@dataclass
class SpokenClause:
    text: str
    samples: int = 0


@dataclass
class SpeechOutput:
    """Everything needed to speak one reply. ``send_audio``/``send_transcript`` queue messages."""

    tts: TTSEngine
    fast_tts: TTSEngine | None
    voice: str
    language: str | None
    executor: Executor
    send_audio: Callable[[bytes, str], None]
    """(pcm16 bytes, base64) → queue one modelTurn audio message and mark it on the clock."""
    send_transcript: Callable[[str], None]
    clock: PlaybackClock = field(default_factory=lambda: PlaybackClock(OUTPUT_RATE))
    clauses: list[SpokenClause] = field(default_factory=list)
    fell_back: bool = False
    first_audio_at: float | None = None

    async def speak(self, fragments: AsyncIterator[str]) -> str:
        """Speak the text as it streams in; return the whole text that was spoken."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def split() -> None:
            splitter = ClauseSplitter(first_clause_words=FIRST_CLAUSE_WORDS)
            try:
                async for fragment in fragments:
                    for clause in splitter.feed(fragment):
                        queue.put_nowait(clause)
                for clause in splitter.flush():
                    queue.put_nowait(clause)
            finally:
                queue.put_nowait(None)

        async def synthesize() -> None:
            while (clause := await queue.get()) is not None:
                text = speakable(clause)
                if text:
                    await self._speak_clause(text)

        async with asyncio.TaskGroup() as group:
            group.create_task(split())
            group.create_task(synthesize())
        return " ".join(clause.text for clause in self.clauses)

    async def _speak_clause(self, text: str) -> None:
        loop = asyncio.get_running_loop()
        engine = self.fast_tts if (self.fell_back and self.fast_tts) else self.tts
        started = time.perf_counter()
        try:
            audio = await loop.run_in_executor(
                self.executor,
                lambda: engine.synthesize(text, voice=self.voice, language=self.language),
            )
        except Exception:
            if engine is self.fast_tts or self.fast_tts is None:
                raise
            log.exception("quality TTS failed; switching this reply to the fast voice")
            self.fell_back = True
            audio = await loop.run_in_executor(
                self.executor,
                lambda: self.fast_tts.synthesize(text, voice=self.voice, language=self.language),
            )
        elapsed = time.perf_counter() - started
        self._maybe_fall_back(elapsed, len(audio))
        clause = SpokenClause(text)
        self.clauses.append(clause)
        self.send_transcript(text + " ")
        pcm = np.asarray(audio, dtype="<i2").tobytes()
        step = CHUNK_SAMPLES * 2
        for offset in range(0, len(pcm), step):
            piece = pcm[offset : offset + step]
            if self.first_audio_at is None:
                self.first_audio_at = time.perf_counter()
            self.clock.on_sent(time.monotonic(), len(piece) // 2, tag=len(self.clauses) - 1)
            clause.samples += len(piece) // 2
            self.send_audio(piece, encode_standard(piece))

    def _maybe_fall_back(self, synthesis_s: float, samples: int) -> None:
        if self.fell_back or self.fast_tts is None or self.fast_tts is self.tts:
            return
        # Only a clause that took longer to make than to play means synthesis cannot keep up;
        # a gap after a short first clause is expected and does not switch voices mid-reply.
        audio_s = samples / OUTPUT_RATE
        if synthesis_s > audio_s:
            log.warning(
                "TTS slower than real time (%.2fs for %.2fs of audio); fast voice for the rest "
                "of this reply",
                synthesis_s,
                audio_s,
            )
            self.fell_back = True

    def heard_text(self, now: float) -> str:
        """The part of the reply the user heard by ``now``: whole clauses, then a share of words."""
        fractions = self.clock.played_fraction_by_tag(now)
        heard: list[str] = []
        for index, clause in enumerate(self.clauses):
            fraction = fractions.get(index, 0.0)
            if fraction >= 0.999:
                heard.append(clause.text)
                continue
            words = clause.text.split()
            count = int(len(words) * fraction)
            if count:
                heard.append(" ".join(words[:count]))
            break
        return " ".join(heard)
