"""Spoken test clips: questions in several of our own Kokoro voices, and real human recordings
(read speech shipped inside the ``moonshine-voice`` wheel, MIT) when that package is installed."""

from __future__ import annotations

import importlib.util
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.pcm import INPUT_RATE, OUTPUT_RATE
from ..audio.resample import resample

QUESTIONS = [
    ("Charon", "What is the tallest mountain in the world?"),
    ("Kore", "Can you recommend a good book for a long flight?"),
    ("Fenrir", "How do I make a cup of green tea?"),
    ("Aoede", "Tell me something interesting about octopuses."),
    ("Iapetus", "What time is it in Tokyo right now?"),
    ("Leda", "Why is the sky blue during the day?"),
]
INTERRUPTIONS = [
    ("Puck", "Wait, stop, tell me about dogs instead."),
    ("Zephyr", "Sorry, hold on, I have another question."),
]
# A listener's "I follow you", said over a reply: it should not cut the reply off.
BACKCHANNELS = [("Puck", "Mm-hmm."), ("Kore", "Okay."), ("Charon", "Uh-huh.")]


@dataclass(frozen=True)
class Clip:
    name: str
    text: str
    audio: np.ndarray  # float32 mono at 16 kHz, trimmed

    @property
    def seconds(self) -> float:
        return len(self.audio) / INPUT_RATE

    def pcm16(self) -> bytes:
        return (np.clip(self.audio, -1, 1) * 32767).astype("<i2").tobytes()


def trim(audio: np.ndarray, level: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > level)
    if len(loud) == 0:
        return audio
    return audio[max(0, loud[0] - 160) : loud[-1] + 160]  # 10 ms: speech edges stay exact


def synthesized(pairs: list[tuple[str, str]], tts) -> list[Clip]:
    clips = []
    for voice, text in pairs:
        audio = tts.synthesize(text, voice=voice).astype(np.float32) / 32768.0
        clips.append(Clip(f"kokoro:{voice}", text, trim(resample(audio, OUTPUT_RATE, INPUT_RATE))))
    return clips


def human_recordings() -> list[Clip]:
    """Real read speech: the opening of A Tale of Two Cities, and a short conversational line."""
    spec = importlib.util.find_spec("moonshine_voice")
    if spec is None or not spec.submodule_search_locations:
        return []
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    clips = []
    for name, text, seconds in [
        ("two_cities", "It was the best of times, it was the worst of times.", 3.9),
        ("clone-test", "I do, I think that America do it very well.", None),
    ]:
        path = assets / f"{name}.wav"
        if not path.exists():
            continue
        with wave.open(str(path)) as file:
            rate = file.getframerate()
            audio = np.frombuffer(file.readframes(file.getnframes()), "<i2").astype(np.float32)
        audio = resample(audio / 32768.0, rate, INPUT_RATE)
        if seconds is not None:
            audio = audio[: int(seconds * INPUT_RATE)]
        clips.append(Clip(f"human:{name}", text, trim(audio)))
    return clips
