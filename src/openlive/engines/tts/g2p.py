"""Text → Kokoro phonemes → token ids, without GPL code in the process.

* English: hibari-tts's G2P (Apache-2.0), a port of misaki — the G2P Kokoro-82M was trained
  with — that needs neither spaCy nor espeak-ng. American and British variants.
* Other languages: the ``espeak-ng`` program as a subprocess when it is installed (see
  ``espeak.py``); without it, the English G2P reads the text (understandable for Spanish,
  Portuguese or German written in Latin script, poor for the rest) and a warning is logged once.
* Token ids: hibari's ``assets/vocab.json`` *is* Kokoro's phoneme vocabulary (hibari was distilled
  from Kokoro-82M and its NOTICE says the vocab is Kokoro's): the same 114 symbols and ids as the
  ``vocab`` of Kokoro-82M v1.0's config.json. Symbols outside it are dropped, as Kokoro does."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from importlib import resources
from typing import Any

from .espeak import espeak_path, espeak_phonemes, espeak_voice

log = logging.getLogger(__name__)

MAX_TOKENS = 510
"""Kokoro attends over 512 positions; two are the 0 pads around the phonemes."""

# Where a too-long phoneme string may be cut, strongest boundary first.
_BOUNDARIES = (
    re.compile(r"(?<=[.!?…])\s+"),
    re.compile(r"(?<=[,;:—])\s+"),
    re.compile(r"\s+"),
)


@functools.cache
def kokoro_vocab() -> dict[str, int]:
    text = (resources.files("hibari") / "assets" / "vocab.json").read_text(encoding="utf-8")
    return json.loads(text)


def token_ids(phonemes: str) -> list[int]:
    vocab = kokoro_vocab()
    return [vocab[symbol] for symbol in phonemes if symbol in vocab]


def chunk_phonemes(phonemes: str, limit: int = MAX_TOKENS) -> list[str]:
    """Pieces of at most ``limit`` tokens, cut at sentence ends, then clauses, then words."""
    return [chunk for chunk in _chunk(phonemes.strip(), limit, 0) if token_ids(chunk)]


def _chunk(phonemes: str, limit: int, level: int) -> list[str]:
    if len(token_ids(phonemes)) <= limit:
        return [phonemes]
    if level == len(_BOUNDARIES):
        # No space in `limit` symbols: cut blindly (characters ≥ tokens, so each piece fits).
        return [phonemes[i : i + limit] for i in range(0, len(phonemes), limit)]
    chunks: list[str] = []
    current = ""
    for part in _BOUNDARIES[level].split(phonemes):
        joined = f"{current} {part}" if current else part
        if len(token_ids(joined)) <= limit:
            current = joined
            continue
        if current:
            chunks.append(current)
        if len(token_ids(part)) <= limit:
            current = part
        else:
            chunks.extend(_chunk(part, limit, level + 1))
            current = ""
    if current:
        chunks.append(current)
    return chunks


def is_english(language: str | None) -> bool:
    return language is None or not language.strip() or language.lower().startswith("en")


class Phonemizer:
    """Thread-safe text → phonemes. hibari's G2P keeps no per-call state that we know of, but it
    does not promise thread safety, and at ~1 ms a sentence a lock costs nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._english: dict[bool, Any] = {}
        self._warned: set[str] = set()

    def load(self, *, british: bool = True) -> None:
        """Load the American G2P (and the British one) now rather than on the first request."""
        with self._lock:
            for variant in (False, True) if british else (False,):
                # The out-of-vocabulary net otherwise loads on the first unknown word (~0.3 s
                # in the middle of a reply).
                _ = self._g2p(variant).oov

    def __call__(self, text: str, *, language: str | None = None, british: bool = False) -> str:
        if language is not None and not is_english(language):
            voice = espeak_voice(language) if espeak_path() else None
            if voice is not None:
                return espeak_phonemes(text, voice)
            self._warn_english_fallback(language)
        with self._lock:
            return self._g2p(british)(text)

    def _g2p(self, british: bool) -> Any:
        g2p = self._english.get(british)
        if g2p is None:
            from hibari.g2p import G2P  # heavy-ish (lexicons): only when a Phonemizer is used

            g2p = self._english[british] = G2P(british=british)
        return g2p

    def _warn_english_fallback(self, language: str) -> None:
        if language in self._warned:
            return
        self._warned.add(language)
        why = "no espeak-ng voice for it" if espeak_path() else "espeak-ng is not installed"
        log.warning("TTS: %s is read with English phonemes (%s)", language, why)
