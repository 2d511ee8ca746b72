"""The speech-model install: idempotent, checksummed, and clear when something is missing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from openlive.assets import AssetsMissing, ensure_speech_assets, speech_assets
from openlive.assets.manifest import Manifest, StepRecord, record_of
from openlive.settings import Settings


def test_missing_models_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing, match="openlive models install"):
        speech_assets(tmp_path)


def test_a_second_install_trusts_the_manifest_and_touches_nothing() -> None:
    assets = ensure_speech_assets(Settings().models_dir, progress=False)
    watched = [
        assets.whisper_dir / "model.bin",
        assets.kokoro_model,
        assets.kokoro_voice("am_puck"),
        assets.smart_turn_model,
    ]
    before = [path.stat().st_mtime_ns for path in watched]
    started = time.perf_counter()
    assert ensure_speech_assets(assets.models_dir, progress=False) == assets
    assert time.perf_counter() - started < 1.0
    assert [path.stat().st_mtime_ns for path in watched] == before
    assert speech_assets(assets.models_dir) == assets
    assert (assets.models_dir / "NOTICE").read_text().count("BSD 2-Clause License") == 1


def test_the_manifest_checks_sizes_cheaply_and_hashes_only_when_asked(tmp_path: Path) -> None:
    weights = tmp_path / "model" / "weights.bin"
    weights.parent.mkdir()
    weights.write_bytes(b"\x01" * 1000)
    manifest = Manifest({"model": StepRecord("v1", {"model/weights.bin": record_of(weights)})})
    manifest.save(tmp_path / "manifest.json")
    manifest = Manifest.load(tmp_path / "manifest.json")

    assert manifest.step_present(tmp_path, "model", "v1")
    assert not manifest.step_present(tmp_path, "model", "v2")  # a new recipe reinstalls
    assert manifest.step_verified(tmp_path, "model")

    weights.write_bytes(b"\x02" * 1000)  # same size, other bytes: only hashing notices
    assert manifest.step_present(tmp_path, "model", "v1")
    assert not manifest.step_verified(tmp_path, "model")

    weights.write_bytes(b"\x02" * 999)
    assert not manifest.step_present(tmp_path, "model", "v1")


def test_an_unreadable_manifest_means_reinstall(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    assert Manifest.load(tmp_path / "manifest.json").steps == {}
