"""Whisper on CTranslate2 (via faster-whisper's loader, tokenizer and features), tuned for turns.

faster-whisper's ``transcribe()`` pads every input to Whisper's 30 s window, so a 3 s turn costs
as much as a 30 s one (~1 s of CPU). Live turns are short and latency is the product, so we call
the CTranslate2 model directly on the log-mel of the real audio padded only to
``max(min_window_s, duration + 0.3 s)``: the encoder accepts shorter inputs and the text is the
same. One encoder pass serves both language detection and decoding. Beam 1, no timestamps, and a
token budget proportional to the audio (a runaway decode on a short window cannot run long).

Audio longer than one 30 s window is cut at the quietest moment near the window's end and
transcribed window by window.

Whisper invents text for noise and silence ("you", "I'm going to go to the bathroom.", "1.5cm x
2.5cm x 2.5cm ..."), and how confidently depends on the CPU's numerics. A window is taken as
holding no speech, and gives no text, when any of these says so:

* the VAD (given one) hears less than ``_MIN_VOICED_MS`` of speech in it: Silero separates noise
  from speech by a wide margin (noise and hum score under 0.1, speech frames over 0.5), so this
  holds on every CPU, and it costs ~0.1 ms a frame instead of a Whisper decode;
* Whisper's own rule: a confident no-speech token and an unsure decode (mean log-probability
  under -1);
* a confident no-speech token and a decode stuck in a loop (a word or a short phrase repeated
  over most of the text, or text that gzip compresses more than 2.4x, Whisper's loop test).
The no-speech token alone would throw away real, quiet speech, so it never decides by itself.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from ...audio.pcm import quietest_cut

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_HOP = 160  # samples per log-mel frame
_MAX_WINDOW_S = 30.0  # Whisper's encoder has positions for 30 s and no more
_TAIL_PAD_S = 0.3  # silence after the last word, so the decoder sees the utterance end
_TOKENS_PER_S = 8  # fast speech is ~4-5 tokens/s; the rest is headroom
_TOKENS_EXTRA = 20
_CUT_SEARCH_S = 5.0  # how far back from a full window's end to look for a pause to cut at
# The rules for "this window holds no speech" (see the module docstring).
_NO_SPEECH_PROB = 0.6
_NO_SPEECH_LOGPROB = -1.0
_MAX_COMPRESSION_RATIO = 2.4  # Whisper's own threshold for a looping decode
_LOOP_MIN_WORDS = 6
_LOOP_MAX_PHRASE_WORDS = 4
_MIN_VOICED_MS = 96  # three VAD frames: shorter than any word, longer than a click
_VOICED_PROBABILITY = 0.35  # Silero's non-speech threshold (0.5 less its 0.15 hysteresis)
_MIN_REPEATED_WORDS = 3  # "bye bye" and "thank you, thank you" are real speech


class VoiceActivity(Protocol):
    """What the ASR needs of a VAD (engines.vad.SileroVAD): a fresh stream per window."""

    def new_stream(self) -> _VADStream: ...


class _VADStream(Protocol):
    def process(self, frame: np.ndarray) -> float: ...


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    """ISO 639-1 code Whisper used (given, or detected from the audio)."""


class WhisperASR:
    """A Whisper model directory in CTranslate2 format (``model.bin``, ``config.json``,
    ``tokenizer.json``, ``vocabulary.json``).

    Thread-safe: CTranslate2 runs concurrent ``generate`` calls (up to ``workers`` in parallel,
    each on ``threads`` cores) and releases the GIL; everything else here is read-only after
    ``load()`` except the tokenizer cache, which has a lock. Call it from worker threads, never
    the event loop: a 3-5 s turn costs ~0.2-0.4 CPU-seconds.
    """

    def __init__(
        self,
        model_dir: str | Path,
        threads: int = 1,
        beam_size: int = 1,
        *,
        device: str = "cpu",
        compute_type: str | None = None,
        workers: int = 1,
        min_window_s: float = 8.0,
        vad: VoiceActivity | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.beam_size = beam_size
        self.device = device
        # The packaged weights are float16; on a CPU that becomes float32 unless we ask for int8,
        # which measured ~1.8x faster at the same text.
        self.compute_type = compute_type or ("int8" if device == "cpu" else "float16")
        self.workers = workers
        self.min_window_s = min_window_s
        self.vad = vad
        """Checks that a window holds speech before Whisper decodes it (see the module doc)."""
        self._model: WhisperModel | None = None
        self._load_lock = threading.Lock()
        self._tokenizers: dict[str, tuple[Tokenizer, list[int]]] = {}
        self._tokenizers_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the weights and run one warm-up decode, so no user turn pays for either."""
        with self._load_lock:
            if self._model is not None:
                return
            if not (self.model_dir / "model.bin").is_file():
                raise FileNotFoundError(f"no Whisper model.bin in {self.model_dir}")
            model = WhisperModel(
                str(self.model_dir),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                num_workers=self.workers,
                local_files_only=True,
            )
            self._decode(model, np.zeros(SAMPLE_RATE, np.float32), "en")
            self._model = model
            log.info(
                "ASR: Whisper from %s (%s, %s, %d thread(s), beam %d)",
                self.model_dir,
                self.device,
                self.compute_type,
                self.threads,
                self.beam_size,
            )

    @property
    def supported_languages(self) -> list[str]:
        return self._loaded_model().supported_languages

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> Transcript:
        """Text of 16 kHz mono float32 ``audio``. ``language`` is an ISO 639-1 code or a BCP-47
        tag (``en-US`` → ``en``); None detects it once, from the first window. ``cancelled`` is
        asked before each window: once it says so, the text so far is returned unfinished (its
        caller has given up on it), so a long utterance nobody waits for costs one window more
        at most."""
        model = self._loaded_model()
        audio = np.asarray(audio, dtype=np.float32)
        language = _language_code(language) if language else None
        if language is not None and language not in model.supported_languages:
            raise ValueError(f"Whisper does not know the language {language!r}")
        texts = []
        for window in _split_windows(audio):
            if cancelled is not None and cancelled():
                break
            text, language = self._transcribe_window(model, window, language)
            if text:
                texts.append(text)
        return Transcript(" ".join(texts), language or "en")

    def _loaded_model(self) -> WhisperModel:
        if self._model is None:
            self.load()
        assert self._model is not None
        return self._model

    def _transcribe_window(
        self, model: WhisperModel, audio: np.ndarray, language: str | None
    ) -> tuple[str, str]:
        if self.vad is not None and voiced_ms(self.vad, audio) < _MIN_VOICED_MS:
            return "", language or "en"
        return self._decode(model, audio, language)

    def _decode(
        self, model: WhisperModel, audio: np.ndarray, language: str | None
    ) -> tuple[str, str]:
        duration_s = len(audio) / SAMPLE_RATE
        features = _log_mel(model, audio, self.min_window_s)
        encoded = model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
        if language is None:
            if model.model.is_multilingual:
                ranked = model.model.detect_language(encoded)[0]
                language = ranked[0][0].strip("<|>")
            else:
                language = "en"
        tokenizer, suppressed = self._tokenizer(model, language)
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        budget = int(_TOKENS_PER_S * duration_s) + _TOKENS_EXTRA
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=self.beam_size,
            max_length=min(len(prompt) + budget, model.max_length),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=suppressed,
        )[0]
        # With length_penalty 1, CTranslate2's score is the mean token log-probability.
        mean_logprob = result.scores[0] if result.scores else 0.0
        text = tokenizer.decode(result.sequences_ids[0]).strip()
        if result.no_speech_prob > _NO_SPEECH_PROB and (
            mean_logprob < _NO_SPEECH_LOGPROB or is_loop(text)
        ):
            return "", language
        return drop_repeated_copy(text), language

    def _tokenizer(self, model: WhisperModel, language: str) -> tuple[Tokenizer, list[int]]:
        """The tokenizer for ``language`` and the tokens to suppress: faster-whisper's defaults
        (symbols, speaker tags, "♪" and the task tokens), so the text reads like transcribe()'s."""
        with self._tokenizers_lock:
            cached = self._tokenizers.get(language)
            if cached is None:
                tokenizer = Tokenizer(
                    model.hf_tokenizer,
                    model.model.is_multilingual,
                    task="transcribe",
                    language=language,
                )
                cached = (tokenizer, list(get_suppressed_tokens(tokenizer, (-1,))))
                self._tokenizers[language] = cached
            return cached


def voiced_ms(vad: VoiceActivity, audio: np.ndarray) -> float:
    """Milliseconds of ``audio`` (16 kHz) that the VAD hears as speech, on a fresh stream."""
    stream = vad.new_stream()
    frame = 512
    voiced = 0
    for start in range(0, len(audio) - frame + 1, frame):
        chunk = np.ascontiguousarray(audio[start : start + frame], dtype=np.float32)
        if stream.process(chunk) >= _VOICED_PROBABILITY:
            voiced += 1
    return voiced * frame * 1000 / SAMPLE_RATE


def _language_code(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def _log_mel(model: WhisperModel, audio: np.ndarray, min_window_s: float) -> np.ndarray:
    """(1, 80, frames) log-mel of ``audio`` zero-padded to the short window Whisper will see."""
    samples = max(int(min_window_s * SAMPLE_RATE), len(audio) + int(_TAIL_PAD_S * SAMPLE_RATE))
    samples = min(samples, int(_MAX_WINDOW_S * SAMPLE_RATE))
    # The encoder's first convolution has stride 2: keep the frame count even.
    samples = -(-samples // (2 * _HOP)) * (2 * _HOP)
    padded = np.zeros(samples, dtype=np.float32)
    padded[: len(audio)] = audio[:samples]
    features = model.feature_extractor(padded, padding=0)  # exactly samples / 160 frames
    return np.ascontiguousarray(features[np.newaxis], dtype=np.float32)


def _split_windows(audio: np.ndarray) -> list[np.ndarray]:
    """Pieces of at most one Whisper window (less the tail padding), cut in pauses."""
    limit = int((_MAX_WINDOW_S - _TAIL_PAD_S) * SAMPLE_RATE)
    windows = []
    start = 0
    while len(audio) - start > limit:
        window = audio[start : start + limit]
        cut = start + quietest_cut(window, SAMPLE_RATE, search_s=_CUT_SEARCH_S)
        windows.append(audio[start:cut])
        start = cut
    windows.append(audio[start:])
    return windows


_WORD = re.compile(r"[\w']+")


def is_loop(text: str) -> bool:
    """A decode stuck in a loop: one word or one short phrase repeated over most of a longish
    text ("a, a, a, a, ...", "2.5cm x 2.5cm x 2.5cm x ..."), or text that compresses like one.
    (Whisper's gzip-ratio test alone needs far longer text than a turn to work.)"""
    encoded = text.encode()
    if len(encoded) > 40 and len(encoded) / len(zlib.compress(encoded)) > _MAX_COMPRESSION_RATIO:
        return True
    words = _WORD.findall(text.lower())
    if len(words) < _LOOP_MIN_WORDS:
        return False
    for size in range(1, _LOOP_MAX_PHRASE_WORDS + 1):
        phrases = Counter(tuple(words[i : i + size]) for i in range(len(words) - size + 1))
        count = phrases.most_common(1)[0][1]
        if count >= 3 and count * size > len(words) / 2:
            return True
    return False


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def drop_repeated_copy(text: str) -> str:
    """Short windows sometimes make Whisper say a sentence twice ("Call my sister. Call my
    sister."), most often the last one of a turn cut mid-sentence for a partial. Keep one copy
    when a sentence of at least a few words repeats the one before it word for word (ignoring
    case and punctuation), or when the second half of an unpunctuated text repeats the first.
    Shorter repeats ("Bye bye.", "Thank you, thank you.") are real speech and stay."""

    def normalised(part: str) -> list[str]:
        return _WORD.findall(part.lower())

    sentences: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words = normalised(sentence)
        if sentences and len(words) >= _MIN_REPEATED_WORDS and words == normalised(sentences[-1]):
            continue
        sentences.append(sentence)
    text = " ".join(sentences)

    words = text.split()
    half = len(words) // 2
    if half >= _MIN_REPEATED_WORDS and len(words) % 2 == 0:
        first, second = " ".join(words[:half]), " ".join(words[half:])
        if normalised(first) == normalised(second):
            return first
    return text
