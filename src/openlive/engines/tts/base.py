"""The text-to-speech engine interface: a clause of text in, 24 kHz int16 mono PCM out.

Synthesis is synchronous and CPU-bound on purpose: the caller runs it in a worker thread (see
docs/design.md, heavy compute never runs on the event loop) and decides how to split a reply into
clauses (``text.ClauseSplitter``) so that the first one is heard early."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

import numpy as np

SAMPLE_RATE = 24_000
"""Every engine answers at 24 kHz, the Live API's output rate."""


class TTSError(RuntimeError):
    """The engine cannot be created or loaded (missing models, bad setting)."""


class TTSEngine(Protocol):
    sample_rate: int
    """Always :data:`SAMPLE_RATE`."""

    description: str
    """What the operator should see at start-up: which model, where, how many threads."""

    def load(self) -> None:
        """Load the models. Called once at start-up, in a worker thread."""

    def voices(self) -> list[str]:
        """The voice names ``synthesize`` accepts (the 30 Gemini prebuilt voices)."""
        ...

    def synthesize(self, text: str, *, voice: str, language: str | None = None) -> np.ndarray:
        """Speak ``text`` as int16 mono PCM at 24 kHz (empty for text with nothing to say).

        voice: a Gemini voice name, case-insensitive; others raise ``voices.UnknownVoice``.
        language: a BCP-47 code such as ``en-US`` or ``es-ES``; None means English.
        Safe to call from several threads at once."""
        ...


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, clipping rather than wrapping around on overshoot."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


@runtime_checkable
class StreamingTTS(Protocol):
    """An engine that can also stream a clause as it is made (a remote server): the session
    sends each chunk on arrival instead of waiting for the whole clause, and cancelling the
    iteration stops the synthesis."""

    def stream(
        self, text: str, *, voice: str, language: str | None = None
    ) -> AsyncIterator[np.ndarray]:
        """int16 mono PCM at 24 kHz, in chunks of any size."""
        ...
