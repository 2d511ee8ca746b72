"""Packaged chat models: served by name, checked against their pinned checksums, and a damaged
default falls back loudly instead of silently."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from openlive.assets import ensure_llm_assets
from openlive.assets.llm import PACKAGED_LLMS, QWEN_0_5B, QWEN_1_5B, verified_llm_file
from openlive.assets.steps import AssetError
from openlive.engines.llm.model_source import ModelNotFound, resolve_gguf
from openlive.settings import Settings

MODELS_DIR = Settings().models_dir


@pytest.fixture(scope="module")
def installed() -> dict[str, Path]:
    return ensure_llm_assets(MODELS_DIR, progress=False)


def test_the_default_is_qwen_1_5b(installed: dict[str, Path]) -> None:
    source = resolve_gguf("", MODELS_DIR)
    assert source.path == installed[QWEN_1_5B.name]
    assert "Qwen2.5-Coder-1.5B-Instruct" in source.label
    assert not source.is_placeholder and not source.fallback


@pytest.mark.parametrize("name", list(PACKAGED_LLMS))
def test_every_packaged_model_resolves_by_name(installed: dict[str, Path], name: str) -> None:
    source = resolve_gguf(name, MODELS_DIR)
    assert source.path.is_file()
    assert source.is_placeholder == (name == "smollm2")


def test_a_second_install_is_instant(installed: dict[str, Path]) -> None:
    before = {name: path.stat().st_mtime_ns for name, path in installed.items()}
    again = ensure_llm_assets(MODELS_DIR, progress=False)
    assert {name: path.stat().st_mtime_ns for name, path in again.items()} == before
    notice = (MODELS_DIR / "NOTICE").read_text()
    assert QWEN_1_5B.sha256 in notice and QWEN_0_5B.sha256 in notice


def damaged_models_dir(tmp_path: Path, installed: dict[str, Path]) -> Path:
    """A models folder whose default model has the right size but other bytes (a sparse file),
    beside an intact 0.5B."""
    default = tmp_path / QWEN_1_5B.file
    default.parent.mkdir(parents=True)
    with default.open("wb") as file:
        file.truncate(QWEN_1_5B.size)
    os.symlink(installed[QWEN_0_5B.name], tmp_path / QWEN_0_5B.file)
    return tmp_path


def test_a_damaged_file_fails_its_checksum(tmp_path: Path, installed: dict[str, Path]) -> None:
    models_dir = damaged_models_dir(tmp_path, installed)
    with pytest.raises(AssetError, match="sha256"):
        verified_llm_file(QWEN_1_5B, models_dir)
    assert verified_llm_file(QWEN_0_5B, models_dir) == models_dir / QWEN_0_5B.file


def test_a_damaged_default_falls_back_loudly(
    tmp_path: Path, installed: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    models_dir = damaged_models_dir(tmp_path, installed)
    with caplog.at_level(logging.WARNING):
        source = resolve_gguf("", models_dir)
    assert source.fallback and "0.5B" in source.label
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "DEFAULT MODEL CANNOT BE USED" in warning.getMessage()
    assert "sha256" in warning.getMessage() and "0.5B" in warning.getMessage()


def test_a_named_model_is_never_swapped(tmp_path: Path, installed: dict[str, Path]) -> None:
    models_dir = damaged_models_dir(tmp_path, installed)
    with pytest.raises(ModelNotFound, match="openlive models install"):
        resolve_gguf(QWEN_1_5B.name, models_dir)


def test_with_nothing_assembled_the_placeholder_stands_in(tmp_path: Path) -> None:
    # Only the SmolLM2 wheel (installed with the package) is left: the last fallback.
    source = resolve_gguf("", tmp_path)
    assert source.fallback and source.is_placeholder
