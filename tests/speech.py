"""Natural-sounding test speech, made offline with hibari-tts and cached on disk.

Turn detection and ASR must be tested on speech with real prosody (espeak's flat intonation makes
the turn model call finished questions unfinished). hibari's bundled "heart" voice is a distilled
Kokoro voice: natural enough, ~100x faster than real time, deterministic with a fixed seed.

    speech = SpeechMaker(cache_dir)
    clip = speech.say("What time does the museum open?")   # 16 kHz float32, silence trimmed
    clip = pad(clip, before=0.5, after=1.0)
    noisy = add_noise(clip, snr_db=10)
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import soxr

SAMPLE_RATE = 16000
_TRIM_LEVEL = 0.01  # hibari's own lead-in and tail are digital near-silence, well below this
_TRIM_MARGIN_S = 0.02  # keep the soft edges of the first and last phonemes


class SpeechMaker:
    """Synthesises sentences once and keeps them as ``.npy`` files in ``cache_dir``."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._tts = None
        self._lock = threading.Lock()

    def say(self, text: str, *, speed: float = 1.0, seed: int = 0, trim: bool = True) -> np.ndarray:
        """``text`` spoken at 16 kHz (float32 in [-1, 1]); ``trim`` cuts the silence at the ends."""
        import hibari

        key = hashlib.sha256(f"{hibari.__version__}|{speed}|{seed}|{text}".encode()).hexdigest()
        path = self.cache_dir / f"{key[:24]}.npy"
        if path.exists():
            audio = np.load(path)
        else:
            with self._lock:
                if self._tts is None:
                    self._tts = hibari.Hibari()
                native = self._tts(text, speed=speed, seed=seed)
            audio = soxr.resample(native, hibari.SAMPLE_RATE, SAMPLE_RATE).astype(np.float32)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, audio)
            tmp.replace(path)  # atomic, so parallel test runs never read half a file
        return trim_silence(audio) if trim else audio


def trim_silence(audio: np.ndarray, level: float = _TRIM_LEVEL) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > level)
    if len(loud) == 0:
        return audio[:0]
    margin = int(_TRIM_MARGIN_S * SAMPLE_RATE)
    return audio[max(0, loud[0] - margin) : loud[-1] + 1 + margin]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def pad(audio: np.ndarray, before: float = 0.0, after: float = 0.0) -> np.ndarray:
    """``audio`` with ``before`` / ``after`` seconds of digital silence around it."""
    return np.concatenate([silence(before), audio, silence(after)])


def join(*parts: np.ndarray, gap: float = 0.0) -> np.ndarray:
    """Clips one after another with ``gap`` seconds of silence between them."""
    pieces: list[np.ndarray] = []
    for i, part in enumerate(parts):
        if i and gap:
            pieces.append(silence(gap))
        pieces.append(part)
    return np.concatenate(pieces).astype(np.float32)


def pink_noise(seconds: float, rms: float = 0.01, seed: int = 0) -> np.ndarray:
    """Pink-ish noise (power ∝ 1/f, like room hum and fans more than hiss) with the given RMS."""
    n = round(seconds * SAMPLE_RATE)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequencies = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[1:] /= np.sqrt(frequencies[1:])  # 1/f power is 1/sqrt(f) amplitude
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return (noise * (rms / np.sqrt(np.mean(noise**2)))).astype(np.float32)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(audio, dtype=np.float64) ** 2)))


def add_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """``audio`` plus pink noise at ``snr_db`` below the RMS of its loud part (the speech, not the
    silence around it, so padding does not change the effective SNR)."""
    frame = SAMPLE_RATE // 50
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    frame_rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    active = frames[frame_rms > _TRIM_LEVEL]
    level = rms(active if len(active) else audio) / (10 ** (snr_db / 20))
    mixed = audio + pink_noise(len(audio) / SAMPLE_RATE, rms=level, seed=seed)
    return np.clip(mixed, -1.0, 1.0).astype(np.float32)
