"""Quality TTS: Kokoro-82M v1.0 (ONNX) run directly on onnxruntime, 30 distinct voices.

The ``kokoro-onnx`` package is not used because its text front end loads GPL code (phonemizer,
espeakng-loader). What it does is small: phonemes → token ids (``g2p.py``), the style row for
the sequence length, one ``session.run``. Inputs of the graph: ``tokens`` int64 [1, n + 2] (the
phoneme ids between two 0 pads), ``style`` float32 [1, 256], ``speed`` float32 [1]; output: float
audio at 24 kHz.

Two graphs hold the same weights: the packaged int8 one and a float one rebuilt from it at
install time (``assets/kokoro_float.py``). ``load`` times the candidates on this CPU and keeps
the fastest (``calibrate.py``), and derives how long the first clause of a reply should be.

Every piece of audio starts where its sound starts (``trim_leading_silence``): the graph spends
the leading pad token on 0.2-0.4 s of silence, which a listener hears as dead air before each
reply.

Thread safety: ``InferenceSession.run`` may be called from several threads at once, the style
tables are read-only after ``load``, and the G2P takes its own lock."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...assets import SpeechAssets
from .base import SAMPLE_RATE, TTSError, to_pcm16
from .calibrate import (
    DEFAULT_FIRST_CLAUSE_WORDS,
    Candidate,
    Fit,
    Timing,
    cheapest,
    first_clause_words,
    graph_candidates,
    keep_threads,
    more_threads,
    next_clause_words,
)
from .g2p import Phonemizer, chunk_phonemes, token_ids
from .text import has_words, speakable
from .voices import VOICES, kokoro_styles, resolve_voice, voice_names

log = logging.getLogger("openlive.tts")

STYLE_ROWS, STYLE_DIM = 510, 256
# Timed on every candidate at load (after a warm-up run), then the longer one on the winner
# only, to tell the fixed cost of a clause from its cost per word.
# Short ones: the whole calibration adds about 1.5-2 s to a load on a free core.
CALIBRATION_SHORT = (2, "Sure thing.")
CALIBRATION_LONG = (6, "I think that sounds really good.")
# The leading pad token is given 9-15 frames of 25 ms (measured over 6 voices and 7 sentences:
# 270 ms of silence on average, 350-395 ms for some voices). The pad stays in the input, since a
# graph that shortened it swallowed first words ("Have a nice day" heard as "A nice day"), and
# the silence is cut from the output instead, down to a margin that keeps the first consonant's
# onset: with it, Whisper heard every word of 28 such clips (4 voices) as it did untrimmed.
SILENCE_LEVEL = 0.003  # -50 dBFS of float output: below it a sample is not heard
LEAD_MARGIN_S = 0.02


class KokoroTTS:
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_path: Path,
        voices_dir: Path,
        *,
        threads: int = 1,
        float_model_path: Path | None = None,
        graph: str = "int8",
        spinning: bool = False,
        free_cores: int | None = None,
    ) -> None:
        """threads: intra-op threads, 0 to choose by measurement; graph: ``int8``, ``float``
        or ``auto`` (measure both; the float graph only when float_model_path exists);
        spinning: let idle onnxruntime workers spin between steps; off by default because the
        cores are shared with the LLM and ASR (measured: 2 spinning threads beside a busy
        process were slower than 2 that sleep, ``bench/kokoro_graphs.py``);
        free_cores: cores the LLM leaves while it decodes (default: all), for threads=0."""
        self.model_path = model_path
        self.float_model_path = float_model_path
        self.voices_dir = voices_dir
        self.threads = threads
        self.graph = graph
        self.spinning = spinning
        self.free_cores = free_cores if free_cores is not None else (os.cpu_count() or 1)
        self.description = f"Kokoro-82M v1.0 ({graph} graph, {threads or 'auto'} thread(s))"
        self._phonemizer = Phonemizer()
        self._session: Any = None
        self._styles: dict[str, np.ndarray] = {}
        self.load_seconds: float | None = None
        self.choice: Candidate | None = None
        self.timings: list[Timing] = []
        self.first_clause_words = DEFAULT_FIRST_CLAUSE_WORDS
        """How many words the first clause of a reply may hold before it is spoken (speech_out)."""
        self._fit: Fit | None = None

    @classmethod
    def from_assets(
        cls,
        assets: SpeechAssets,
        *,
        threads: int = 1,
        graph: str = "int8",
        spinning: bool = False,
        free_cores: int | None = None,
    ) -> KokoroTTS:
        return cls(
            assets.kokoro_model,
            assets.kokoro_voices_dir,
            threads=threads,
            float_model_path=assets.kokoro_float_model,
            graph=graph,
            spinning=spinning,
            free_cores=free_cores,
        )

    def load(self) -> None:
        started = time.perf_counter()
        styles = {style: self._read_style(style) for style in kokoro_styles()}
        # A blend is the plain average of its styles, computed once rather than per request.
        self._styles = {
            voice.name: np.mean([styles[s] for s in voice.styles], axis=0).astype(np.float32)
            for voice in VOICES
        }
        self._phonemizer.load(british=True)
        have_float = self.float_model_path is not None and self.float_model_path.is_file()
        if self.graph.strip().lower() == "float" and not have_float:
            raise TTSError(
                f"tts_graph=float but the float Kokoro graph is not installed "
                f"({self.float_model_path}): run `openlive models install`"
            )
        try:
            plan = graph_candidates(self.graph, self.threads, have_float=have_float)
        except ValueError as error:
            raise TTSError(str(error)) from error

        sessions = {candidate: self._open(candidate) for candidate in plan}
        for session in sessions.values():
            self._session = session
            self.synthesize("Ready.", voice="Puck")  # first run allocates; not timed
        # Timed after every warm-up, so no candidate pays for the others' allocations.
        self.timings = [self._time(c, s, CALIBRATION_SHORT[1]) for c, s in sessions.items()]
        best = cheapest(self.timings)
        session = sessions[best.candidate]
        sessions.clear()  # the other graph is released here
        wider = more_threads(best.candidate, self.threads, self.free_cores)
        if wider is not None:
            two = self._open(wider)
            self._session = two
            self.synthesize("Ready.", voice="Puck")
            runs = [self._time(wider, two, CALIBRATION_SHORT[1]) for _ in range(2)]
            self.timings.append(min(runs, key=lambda t: t.synth_s))  # calibrate.THREAD_GAIN
            kept = keep_threads(best, self.timings[-1])
            if kept is not best:
                best, session = kept, two
        self._session = session
        self.choice = best.candidate
        longer = self._time(best.candidate, session, CALIBRATION_LONG[1])
        fit = Fit.of((CALIBRATION_SHORT[0], best), (CALIBRATION_LONG[0], longer))
        self.first_clause_words = first_clause_words(fit)
        self._fit = fit
        self.load_seconds = time.perf_counter() - started
        self.description = (
            f"Kokoro-82M v1.0 {best.candidate.graph} graph, {best.candidate.threads} thread(s), "
            f"30 voices"
        )
        log.info("%s", self.explain(fit))

    def next_clause_words(self, previous_words: int) -> int | None:
        """How many words a later clause may hold after one of ``previous_words`` (speech_out):
        made while that one plays, on this CPU (calibrate.next_clause_words)."""
        return next_clause_words(self._fit, previous_words)

    def explain(self, fit: Fit | None = None) -> str:
        """One line: what load chose and the figures it chose by."""
        if self.choice is None:
            return "Kokoro not loaded"
        figures = ", ".join(
            f"{t.candidate} {t.synth_s * 1000:.0f} ms"
            + (f" ({t.cpu_s * 1000:.0f} ms CPU)" if t.candidate.threads == 1 else "")
            for t in self.timings
        )
        asked = f"tts_graph={self.graph}, tts_threads={self.threads or 'auto'}"
        if not self.threads:
            asked += f", {self.free_cores} core(s) free of the LLM"
        clause = f"first clause {self.first_clause_words} words"
        if fit is not None:
            clause += (
                f" (synthesis {fit.synth_fixed * 1000:.0f} ms + {fit.synth_per_word * 1000:.0f} "
                f"ms/word, RTF {fit.rtf(self.first_clause_words):.2f} at that length)"
            )
            caps, words = [], self.first_clause_words
            for _ in range(3):
                words = next_clause_words(fit, words) or words
                caps.append(str(words))
            clause += f", then at most {', '.join(caps)}… words"
        return (
            f'Kokoro: {self.choice} chosen ({asked}); "{CALIBRATION_SHORT[1]}" took '
            f"{figures}; {clause}"
        )

    def _open(self, candidate: Candidate) -> Any:
        import onnxruntime as ort

        path = self.float_model_path if candidate.graph == "float" else self.model_path
        assert path is not None  # candidates() offers float only when it is installed
        options = ort.SessionOptions()
        options.intra_op_num_threads = candidate.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the int8 graph warns about unused initializers
        if not self.spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped exceptions
            raise TTSError(f"cannot load Kokoro from {path}: {error}") from error

    def _time(self, candidate: Candidate, session: Any, text: str) -> Timing:
        self._session = session
        wall, cpu = time.perf_counter(), time.thread_time()
        pcm = self.synthesize(text, voice="Puck")
        return Timing(
            candidate,
            time.perf_counter() - wall,
            len(pcm) / SAMPLE_RATE,
            time.thread_time() - cpu,
        )

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
            pieces.append(trim_leading_silence(np.asarray(audio, dtype=np.float32).reshape(-1)))
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


def trim_leading_silence(audio: np.ndarray) -> np.ndarray:
    """``audio`` from :data:`LEAD_MARGIN_S` before its first audible sample; all of it when it
    is silent throughout (the caller's audio is never lost, only its dead start)."""
    loud = np.flatnonzero(np.abs(audio) >= SILENCE_LEVEL)
    if not loud.size:
        return audio
    return audio[max(0, int(loud[0]) - round(LEAD_MARGIN_S * SAMPLE_RATE)) :]
