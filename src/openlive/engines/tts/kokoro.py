"""Quality TTS: Kokoro-82M v1.0 (int8 ONNX) run directly on onnxruntime, 30 distinct voices.

The ``kokoro-onnx`` package is not used because its text front end loads GPL code (phonemizer,
espeakng-loader). What it does is small: phonemes → token ids (``g2p.py``), the style row for
the sequence length, one ``session.run``. Inputs of the graph: ``tokens`` int64 [1, n + 2] (the
phoneme ids between two 0 pads), ``style`` float32 [1, 256], ``speed`` float32 [1]; output: float
audio at 24 kHz.

Thread safety: ``InferenceSession.run`` may be called from several threads at once, the style
tables are read-only after ``load``, and the G2P takes its own lock."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...assets import SpeechAssets
from .base import SAMPLE_RATE, TTSError, to_pcm16
from .g2p import Phonemizer, chunk_phonemes, token_ids
from .text import has_words, speakable
from .voices import VOICES, kokoro_styles, resolve_voice, voice_names

STYLE_ROWS, STYLE_DIM = 510, 256


class KokoroTTS:
    sample_rate = SAMPLE_RATE

    def __init__(self, model_path: Path, voices_dir: Path, *, threads: int = 1) -> None:
        self.model_path = model_path
        self.voices_dir = voices_dir
        self.threads = threads
        self.description = f"Kokoro-82M v1.0 int8 ({model_path}, {threads} thread(s), 30 voices)"
        self._phonemizer = Phonemizer()
        self._session = None
        self._styles: dict[str, np.ndarray] = {}
        self.load_seconds: float | None = None

    @classmethod
    def from_assets(cls, assets: SpeechAssets, *, threads: int = 1) -> KokoroTTS:
        return cls(assets.kokoro_model, assets.kokoro_voices_dir, threads=threads)

    def load(self) -> None:
        import onnxruntime as ort

        started = time.perf_counter()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the int8 graph warns about unused initializers
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped exceptions
            raise TTSError(f"cannot load Kokoro from {self.model_path}: {error}") from error
        styles = {style: self._read_style(style) for style in kokoro_styles()}
        # A blend is the plain average of its styles, computed once rather than per request.
        self._styles = {
            voice.name: np.mean([styles[s] for s in voice.styles], axis=0).astype(np.float32)
            for voice in VOICES
        }
        self._phonemizer.load(british=True)
        self.synthesize("Ready.", voice="Puck")  # first run allocates; do it before a user waits
        self.load_seconds = time.perf_counter() - started

    def voices(self) -> list[str]:
        return voice_names()

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        spec = resolve_voice(voice)
        if self._session is None:
            raise TTSError("KokoroTTS.load() has not been called")
        text = speakable(text)
        if not has_words(text):
            return np.zeros(0, dtype=np.int16)
        phonemes = self._phonemizer(text, language=language, british=spec.british)
        table = self._styles[spec.name]
        pieces = []
        for chunk in chunk_phonemes(phonemes):
            ids = token_ids(chunk)
            # Kokoro's voices hold one style per phoneme count: row n-1 for n phonemes.
            style = table[min(len(ids), STYLE_ROWS) - 1]
            audio = self._session.run(
                None,
                {
                    "tokens": np.asarray([[0, *ids, 0]], dtype=np.int64),
                    "style": style,
                    "speed": np.asarray([spec.speed], dtype=np.float32),
                },
            )[0]
            pieces.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return to_pcm16(np.concatenate(pieces))

    def _read_style(self, style: str) -> np.ndarray:
        path = self.voices_dir / f"{style}.bin"
        try:
            table = np.fromfile(path, dtype=np.float32)
        except OSError as error:
            raise TTSError(f"Kokoro voice {style} missing ({path}): {error}") from error
        if table.size != STYLE_ROWS * STYLE_DIM:
            raise TTSError(f"Kokoro voice file {path} has {table.size} floats, not 510 x 256")
        return table.reshape(STYLE_ROWS, 1, STYLE_DIM)
