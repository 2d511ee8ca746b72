"""Speech recognition: a finished (or growing) turn of 16 kHz audio in, text out."""

from .whisper import Transcript, WhisperASR

__all__ = ["Transcript", "WhisperASR"]
