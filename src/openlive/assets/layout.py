"""Where each speech asset lives inside ``models_dir``, and the paths-only accessor.

The layout is shared by the installer (which writes it) and the engines (which read it), so both
import the relative paths from here rather than spelling them twice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .manifest import MANIFEST_NAME, Manifest

WHISPER_DIR = "whisper-base"
KOKORO_MODEL = "kokoro/kokoro-v1.0.int8.onnx"
KOKORO_VOICES_DIR = "kokoro/voices"
SMART_TURN_MODEL = "smart-turn/smart-turn-v3.2-cpu.onnx"

STEP_NAMES = ("whisper-base", "kokoro-model", "kokoro-voices", "smart-turn")
INSTALL_HINT = "run `openlive models install` (or `python -m openlive.assets`)"


class AssetsMissing(RuntimeError):
    """The speech weights are not (completely) installed in ``models_dir``."""


@dataclass(frozen=True)
class SpeechAssets:
    """Absolute paths of the installed speech weights."""

    models_dir: Path
    whisper_dir: Path
    """A CTranslate2 Whisper model folder: ``WhisperModel(str(whisper_dir))`` loads it."""
    kokoro_model: Path
    kokoro_voices_dir: Path
    """One ``<id>.bin`` per Kokoro style: float32, shape (510, 1, 256)."""
    smart_turn_model: Path

    @classmethod
    def under(cls, models_dir: Path) -> SpeechAssets:
        root = models_dir.expanduser().resolve()
        return cls(
            models_dir=root,
            whisper_dir=root / WHISPER_DIR,
            kokoro_model=root / KOKORO_MODEL,
            kokoro_voices_dir=root / KOKORO_VOICES_DIR,
            smart_turn_model=root / SMART_TURN_MODEL,
        )

    def kokoro_voice(self, style: str) -> Path:
        return self.kokoro_voices_dir / f"{style}.bin"


def speech_assets(models_dir: Path) -> SpeechAssets:
    """The asset paths, after a cheap check that an install completed (no hashing).

    Raises :class:`AssetsMissing` telling the user how to install when anything is absent."""
    assets = SpeechAssets.under(models_dir)
    manifest = Manifest.load(assets.models_dir / MANIFEST_NAME)
    missing = [name for name in STEP_NAMES if not manifest.step_present(assets.models_dir, name)]
    if missing:
        raise AssetsMissing(
            f"speech models missing in {assets.models_dir} ({', '.join(missing)}): {INSTALL_HINT}"
        )
    return assets
