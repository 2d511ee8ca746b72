"""Choosing the embedded model: a local GGUF path, or a model-hub id.

The hub cannot be reached here, so the hub path is tested up to the network boundary: the real
``huggingface_hub`` download code runs offline against a cache laid out the way it writes one.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from openlive.engines.llm.model_source import (
    ModelNotFound,
    from_hub,
    packaged_placeholder,
    parse_hub_id,
    resolve_gguf,
)

from ..genai_helpers import MODEL, client_for, receive_turn, text_config, user_text

REPO_ID, FILENAME = "example-org/tiny-chat-GGUF", "tiny-chat-q4_1.gguf"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def populate_hub_cache(cache: Path) -> Path:
    """The layout huggingface_hub writes: refs/main → snapshot folder → the file."""
    repo_dir = cache / f"models--{REPO_ID.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(COMMIT)
    (snapshot / FILENAME).symlink_to(packaged_placeholder().path)
    return snapshot / FILENAME


@pytest.fixture
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache, offline: for this process (read at call time) and for servers."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_ids_name_a_repo_and_a_file() -> None:
    assert parse_hub_id("a/b/c.gguf") == ("a/b", "c.gguf")
    assert parse_hub_id("a/b:sub/c.gguf") == ("a/b", "sub/c.gguf")
    with pytest.raises(ModelNotFound):
        parse_hub_id("just-a-name.gguf")


def test_a_cached_hub_model_resolves_offline(offline_hub: Path) -> None:
    expected = populate_hub_cache(offline_hub)
    source = from_hub(f"{REPO_ID}/{FILENAME}", cache_dir=offline_hub)
    assert source.path == expected
    assert not source.is_placeholder


def test_an_uncached_hub_model_offline_is_a_clear_error(offline_hub: Path) -> None:
    with pytest.raises(ModelNotFound, match="not in the cache and the hub cannot be reached"):
        from_hub(f"{REPO_ID}/{FILENAME}", cache_dir=offline_hub)


def test_a_missing_local_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="no GGUF file at"):
        resolve_gguf(str(tmp_path / "nope.gguf"), tmp_path)


async def test_server_runs_on_a_local_path(server_factory) -> None:
    server = server_factory("--llm", f"embedded:{packaged_placeholder().path}")
    health = httpx.get(f"{server.http_url}/healthz", verify=False).json()
    assert "(local file)" in health["llm"]
    async with client_for(server).aio.live.connect(model=MODEL, config=text_config()) as session:
        await session.send_client_content(turns=user_text("local model"))
        assert (await receive_turn(session)).events()[-1] == "turnComplete"


async def test_server_runs_on_a_hub_model(server_factory, offline_hub: Path) -> None:
    populate_hub_cache(offline_hub)
    server = server_factory("--llm", f"embedded:hf:{REPO_ID}/{FILENAME}", env=dict(os.environ))
    health = httpx.get(f"{server.http_url}/healthz", verify=False).json()
    assert f"{REPO_ID}/{FILENAME} (model hub)" in health["llm"]


def test_server_refuses_to_start_on_a_bad_model(tmp_path: Path) -> None:
    from ..servers import start_server

    server = start_server(tmp_path / "bad", "--llm", "embedded:/no/such/model.gguf", wait=False)
    assert server.process.wait(timeout=60) != 0
    assert "no GGUF file at /no/such/model.gguf" in server.log()
