"""Shared speech fixtures: the models (loaded once per run) and a cache of synthesized speech."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlive.engines.asr import WhisperASR
from openlive.engines.turn import SmartTurn
from openlive.engines.vad import SileroVAD

from ..models import speech_assets
from ..speech import SpeechMaker


def _cache_dir(config: pytest.Config, factory: pytest.TempPathFactory, name: str) -> Path:
    # The pytest cache survives between runs (each sentence is synthesized once); with
    # the cache plugin disabled, a per-run temporary directory still works.
    if getattr(config, "cache", None) is not None:
        return config.cache.mkdir(name)
    return factory.mktemp(name)


@pytest.fixture(scope="session")
def speech(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> SpeechMaker:
    return SpeechMaker(_cache_dir(pytestconfig, tmp_path_factory, "openlive-speech"))


@pytest.fixture(scope="session")
def silero() -> SileroVAD:
    return SileroVAD()


@pytest.fixture(scope="session")
def smart_turn() -> SmartTurn:
    return SmartTurn(speech_assets().smart_turn_model)


@pytest.fixture(scope="session")
def whisper_model_dir() -> Path:
    return speech_assets().whisper_dir


@pytest.fixture(scope="session")
def whisper_asr(whisper_model_dir: Path, silero: SileroVAD) -> WhisperASR:
    """Whisper as the server builds it: with the VAD's check that a window holds speech."""
    asr = WhisperASR(whisper_model_dir, threads=2, vad=silero)
    asr.load()
    return asr
