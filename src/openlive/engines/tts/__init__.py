"""Text-to-speech engines: text in, 24 kHz int16 PCM out. They know nothing of the Live API."""

from __future__ import annotations

from .base import SAMPLE_RATE, TTSEngine, TTSError
from .registry import create_fast_tts, create_tts_engine
from .text import ClauseSplitter, speakable, split_clauses
from .voices import DEFAULT_VOICE, UnknownVoice, VoiceSpec, resolve_voice

__all__ = [
    "DEFAULT_VOICE",
    "SAMPLE_RATE",
    "ClauseSplitter",
    "TTSEngine",
    "TTSError",
    "UnknownVoice",
    "VoiceSpec",
    "create_fast_tts",
    "create_tts_engine",
    "resolve_voice",
    "speakable",
    "split_clauses",
]
