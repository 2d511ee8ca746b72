"""Where each speech and vision asset lives inside ``models_dir``, and the paths-only accessors.

The layout is shared by the installer (which writes it) and the engines (which read it), so both
import the relative paths from here rather than spelling them twice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .manifest import MANIFEST_NAME, Manifest

WHISPER_DIR = "whisper-base"
KOKORO_MODEL = "kokoro/kokoro-v1.0.int8.onnx"
KOKORO_FLOAT_MODEL = "kokoro/kokoro-v1.0.float.onnx"  # rebuilt from the int8 one at install
KOKORO_VOICES_DIR = "kokoro/voices"
SMART_TURN_MODEL = "smart-turn/smart-turn-v3.2-cpu.onnx"

VISION_DIR = "vision"
OBJECTS_MODEL = f"{VISION_DIR}/centernet.onnx"
FACES_MODEL = f"{VISION_DIR}/blazeface.onnx"
EMOTION_MODEL = f"{VISION_DIR}/emotion.onnx"
VISION_LICENSE = f"{VISION_DIR}/LICENSE"
VISION_SAMPLES_DIR = f"{VISION_DIR}/samples"

STEP_NAMES = ("whisper-base", "kokoro-model", "kokoro-voices", "smart-turn")
VISION_STEP_NAMES = ("human-vision",)
INSTALL_HINT = "run `openlive models install` (or `python -m openlive.assets`)"


class AssetsMissing(RuntimeError):
    """The speech or vision weights are not (completely) installed in ``models_dir``."""


@dataclass(frozen=True)
class SpeechAssets:
    """Absolute paths of the installed speech weights."""

    models_dir: Path
    whisper_dir: Path
    """A CTranslate2 Whisper model folder: ``WhisperModel(str(whisper_dir))`` loads it."""
    kokoro_model: Path
    kokoro_float_model: Path
    """The same weights as a float graph (``assets/kokoro_float.py``); faster than int8 on CPUs
    without VNNI. Optional: an install from before it existed lacks it, and int8 still works."""
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
            kokoro_float_model=root / KOKORO_FLOAT_MODEL,
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


@dataclass(frozen=True)
class VisionAssets:
    """Absolute paths of the installed camera-frame models (converted to ONNX at install time).

    Text recognition needs no files here: its PP-OCR models ship inside the rapidocr wheel."""

    models_dir: Path
    objects_model: Path
    """CenterNet (MobileNet-v3), COCO-80 classes: NHWC 1×512×512×3 in, heatmap and sizes out."""
    faces_model: Path
    """BlazeFace (MediaPipe, back camera): NHWC 1×256×256×3 in [-1, 1]."""
    emotion_model: Path
    """Seven expressions from a 64×64 grey face crop."""
    samples_dir: Path
    """Two photos from the same npm package (people at a table, faces), for tests and benchmarks."""

    @classmethod
    def under(cls, models_dir: Path) -> VisionAssets:
        root = models_dir.expanduser().resolve()
        return cls(
            models_dir=root,
            objects_model=root / OBJECTS_MODEL,
            faces_model=root / FACES_MODEL,
            emotion_model=root / EMOTION_MODEL,
            samples_dir=root / VISION_SAMPLES_DIR,
        )


def vision_assets(models_dir: Path) -> VisionAssets:
    """The vision asset paths after the same cheap check as :func:`speech_assets`."""
    assets = VisionAssets.under(models_dir)
    manifest = Manifest.load(assets.models_dir / MANIFEST_NAME)
    missing = [
        name for name in VISION_STEP_NAMES if not manifest.step_present(assets.models_dir, name)
    ]
    if missing:
        raise AssetsMissing(
            f"vision models missing in {assets.models_dir} ({', '.join(missing)}): {INSTALL_HINT}"
        )
    return assets
