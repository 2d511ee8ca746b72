"""Where a GGUF file comes from: a packaged model by name, a local path, or a model-hub id.

``embedded`` alone serves the default packaged model (Qwen2.5-Coder-1.5B-Instruct, assembled by
``openlive models install``). If that file is missing or fails its checksum, the server says so
and falls back, loudly, to the next packaged model that is intact (the 0.5B, then the SmolLM2
placeholder). A model the user named is never swapped: its problem is an error."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ...assets.llm import DEFAULT_LLM, PACKAGED_LLMS, QWEN_0_5B, SMOLLM2, verified_llm_file
from ...assets.steps import AssetError

log = logging.getLogger(__name__)

PLACEHOLDER_ADVICE = (
    "This is a tiny placeholder that streams fast but answers poorly. For real conversations "
    "run `openlive models install` and use the default model (--llm embedded), or choose one: "
    "--llm embedded:/path/to/model.gguf, --llm embedded:hf:<owner/repo/file.gguf>, or an "
    "OpenAI-compatible server such as Ollama: --llm openai:http://127.0.0.1:11434/v1"
)
# Tried in this order when the default model cannot be used.
FALLBACK_ORDER = (QWEN_0_5B.name, SMOLLM2.name)


class ModelNotFound(Exception):
    pass


@dataclass(frozen=True)
class GGUFSource:
    path: Path
    label: str
    is_placeholder: bool = False
    fallback: bool = False
    """The default model could not be used and this one stands in for it."""


def packaged(name: str, models_dir: Path) -> GGUFSource:
    """A packaged model by name, checked against its pinned size and sha256."""
    model = PACKAGED_LLMS.get(name)
    if model is None:
        names = ", ".join(PACKAGED_LLMS)
        raise ModelNotFound(f"no packaged model {name!r}; packaged models: {names}")
    try:
        path = verified_llm_file(model, models_dir)
    except AssetError as error:
        raise ModelNotFound(f"{error}; run `openlive models install`") from None
    return GGUFSource(path, f"{model.title} (packaged)", is_placeholder=model is SMOLLM2)


def packaged_default(models_dir: Path) -> GGUFSource:
    """The default packaged model, or (with a loud warning) the first intact fallback."""
    try:
        return packaged(DEFAULT_LLM, models_dir)
    except ModelNotFound as problem:
        for name in FALLBACK_ORDER:
            try:
                source = packaged(name, models_dir)
            except ModelNotFound:
                continue
            log.warning(
                "THE DEFAULT MODEL CANNOT BE USED: %s. Falling back to %s, which answers far "
                "worse. Run `openlive models install` to fix the default.",
                problem,
                source.label,
            )
            return GGUFSource(source.path, source.label, source.is_placeholder, fallback=True)
        raise


def packaged_placeholder() -> GGUFSource:
    """The SmolLM2-135M placeholder inside its installed package."""
    return packaged(SMOLLM2.name, Path("."))


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


def resolve_gguf(spec: str, models_dir: Path) -> GGUFSource:
    """``""`` → the default packaged model; a packaged model's name (``qwen2.5-coder-0.5b``,
    ``smollm2``, ...); ``hf:<owner/repo/file>`` → hub; else a local path."""
    if not spec:
        return packaged_default(models_dir)
    if spec in PACKAGED_LLMS:
        return packaged(spec, models_dir)
    if spec.startswith("hf:"):
        return from_hub(spec.removeprefix("hf:"))
    path = Path(spec).expanduser()
    if not path.is_file():
        names = ", ".join(PACKAGED_LLMS)
        raise ModelNotFound(f"no GGUF file at {path} (packaged models by name: {names})")
    return GGUFSource(path.resolve(), f"{path.name} (local file)")
