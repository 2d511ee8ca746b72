"""Fast TTS: hibari-tts's bundled ``heart`` voice, a 6 M-parameter student of Kokoro's af_heart.

About 50-100x cheaper than Kokoro (first audio in tens of milliseconds), at the price of one
voice: every Gemini name is accepted (unknown names still raise) and all of them sound like
``heart``. hibari's other voices download at run time, which openlive does not allow, so they
are not used. The model only knows American English phonemes, so British readings are not used.

Thread safety: hibari's ``from_ids`` runs the ONNX session (thread-safe) and numpy signal
processing with a per-call random generator; the G2P takes its own lock."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .base import SAMPLE_RATE, TTSError, to_pcm16
from .g2p import Phonemizer, chunk_phonemes, token_ids
from .text import has_words, speakable
from .voices import resolve_voice, voice_names

# hibari splits longer phoneme strings itself at this length; staying under it keeps the
# prosody of one chunk whole.
MAX_PHONEMES = 400


class FastTTS:
    sample_rate = SAMPLE_RATE

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        self.description = f"hibari-tts 'heart' (fast mode, one voice, {threads} thread(s))"
        self._phonemizer = Phonemizer()
        self._model: Any = None
        self.load_seconds: float | None = None

    def load(self) -> None:
        from hibari import SAMPLE_RATE as HIBARI_RATE
        from hibari import Hibari

        if HIBARI_RATE != SAMPLE_RATE:
            raise TTSError(f"hibari produces {HIBARI_RATE} Hz audio, expected {SAMPLE_RATE}")
        started = time.perf_counter()
        # The bundled voice, by name, so a hibari upgrade can never make this download.
        self._model = Hibari(voice="heart", threads=self.threads)
        self._phonemizer.load(british=False)
        self.synthesize("Ready.", voice="Puck")
        self.load_seconds = time.perf_counter() - started

    def voices(self) -> list[str]:
        return voice_names()

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        resolve_voice(voice)  # same names as quality mode; unknown ones still fail
        if self._model is None:
            raise TTSError("FastTTS.load() has not been called")
        text = speakable(text)
        if not has_words(text):
            return np.zeros(0, dtype=np.int16)
        phonemes = self._phonemizer(text, language=language, british=False)
        rng = np.random.default_rng()
        pieces = [
            self._model.from_ids([0, *token_ids(chunk), 0], 1.0, rng)
            for chunk in chunk_phonemes(phonemes, MAX_PHONEMES)
        ]
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return to_pcm16(np.concatenate(pieces))
