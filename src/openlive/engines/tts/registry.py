"""Map the ``tts_mode`` setting to an engine: ``quality`` (Kokoro) or ``fast`` (hibari)."""

from __future__ import annotations

import os

from ...assets import AssetsMissing, SpeechAssets, speech_assets
from ...settings import Settings
from .base import TTSEngine, TTSError
from .fast import FastTTS
from .kokoro import KokoroTTS

MODES = ("quality", "fast")


def create_tts_engine(settings: Settings, assets: SpeechAssets | None = None) -> TTSEngine:
    """The engine ``settings.tts_mode`` asks for, not yet loaded (call ``load()`` in a thread).

    assets: the installed models, when the caller already has them; otherwise they are looked up
    in ``settings.models_dir``. Raises :class:`TTSError` for an unknown mode or when quality
    mode's models are not installed."""
    mode = settings.tts_mode.strip().lower()
    if mode == "fast":
        return create_fast_tts(settings, assets)
    if mode == "quality":
        if assets is None:
            try:
                assets = speech_assets(settings.models_dir)
            except AssetsMissing as error:
                raise TTSError(str(error)) from error
        return KokoroTTS.from_assets(
            assets,
            threads=settings.tts_threads,
            graph=settings.tts_graph,
            free_cores=_free_cores(settings),
        )
    raise TTSError(f"unknown tts_mode {settings.tts_mode!r}; use one of {', '.join(MODES)}")


def create_fast_tts(settings: Settings, assets: SpeechAssets | None = None) -> TTSEngine:
    """The fast engine, also the fallback when quality synthesis falls behind real time. Its
    model ships inside the hibari package, so it needs no installed assets."""
    return FastTTS(threads=settings.fast_tts_threads())


def _free_cores(settings: Settings) -> int:
    """Cores the embedded LLM leaves while it decodes a reply, which is when Kokoro makes the
    first clause; a remote LLM leaves them all, and so does an embedded one at a lower priority
    (``llm_nice``, engines/priority.py): it yields its core to synthesis whenever both want one.
    (Measured on 2 cores beside a busy process: Kokoro on 2 threads made a 4-word clause in
    0.72 s against 0.95 s on 1 with that process at nice 5; at the same priority, 1.00 s against
    1.04 s. A 2-word clause on 2 threads: 0.71 s idle, 1.06 s beside a nice-0 process, 0.87 s
    beside nice 5, 0.75 s beside nice 10, 0.71 s beside nice 19.)"""
    cores = os.cpu_count() or 1
    if settings.llm.startswith("embedded") and settings.llm_nice <= 0:
        return max(1, cores - settings.embedded_llm_threads())
    return cores
