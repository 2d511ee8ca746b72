"""``ensure_speech_assets`` / ``ensure_vision_assets``: run the install steps that are not already
done, then say so.

Idempotent and cheap when nothing changed: a step recorded in the manifest with the same recipe
and files of the recorded sizes is skipped without hashing. Each failed step is reported on its
own and the others still run (a missing npm should not stop Whisper from being assembled); the
call raises one :class:`InstallFailed` listing them all at the end."""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from .fetch import FetchError
from .layout import VISION_LICENSE, SpeechAssets, VisionAssets
from .llm import ASSEMBLED_LLMS, PACKAGED_LLMS, llm_steps, packaged_llm_path
from .manifest import MANIFEST_NAME, Manifest, StepRecord, write_atomically
from .notice import notice_text
from .progress import Reporter, reporter
from .steps import SMART_TURN_LICENSE, AssetError, Step, StepContext, speech_steps, vision_steps

try:  # POSIX only; elsewhere concurrent installs rely on the atomic renames alone.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class InstallFailed(RuntimeError):
    def __init__(self, failures: dict[str, str], what: str = "speech") -> None:
        self.failures = failures
        lines = "\n".join(f"  {step}: {message}" for step, message in failures.items())
        super().__init__(f"{what} model install failed:\n{lines}")


def ensure_speech_assets(
    models_dir: Path,
    *,
    progress: bool = True,
    verify: bool = False,
    console: Console | None = None,
) -> SpeechAssets:
    """Assemble every speech asset into ``models_dir`` unless it is already there.

    verify: re-hash installed files against the manifest (slow: ~250 MB) and reinstall any
    step that does not match, instead of trusting sizes."""
    assets = SpeechAssets.under(models_dir)
    _ensure(assets.models_dir, speech_steps(), "speech", progress, verify, console)
    return assets


def ensure_vision_assets(
    models_dir: Path,
    *,
    progress: bool = True,
    verify: bool = False,
    console: Console | None = None,
) -> VisionAssets:
    """Convert the camera-frame models (objects, faces, expressions) into ``models_dir`` unless
    they are already there. Needs npm, and the onnx package for the conversion."""
    assets = VisionAssets.under(models_dir)
    _ensure(assets.models_dir, vision_steps(), "vision", progress, verify, console)
    return assets


def ensure_llm_assets(
    models_dir: Path,
    names: list[str] | None = None,
    *,
    progress: bool = True,
    verify: bool = False,
    console: Console | None = None,
) -> dict[str, Path]:
    """Assemble the packaged chat models (``names``, default all of them) into ``models_dir``
    unless they are already there; each model's GGUF path."""
    wanted = [m for m in ASSEMBLED_LLMS if names is None or m.name in names]
    steps = [step for step in llm_steps() if step.name in {m.step_name for m in wanted}]
    root = models_dir.expanduser().resolve()
    _ensure(root, steps, "chat", progress, verify, console)
    return {model.name: packaged_llm_path(PACKAGED_LLMS[model.name], root) for model in wanted}


def _ensure(
    root: Path,
    steps: list[Step],
    what: str,
    progress: bool,
    verify: bool,
    console: Console | None,
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with _install_lock(root):
        manifest = Manifest.load(root / MANIFEST_NAME)
        present = [s for s in steps if manifest.step_present(root, s.name, s.recipe)]
        if verify or len(present) < len(steps):
            with reporter(progress, console) as report:
                if verify:
                    present = [s for s in present if _verified(manifest, root, s, report)]
                pending = [s for s in steps if s not in present]
                failures = _run_steps(pending, manifest, root, report) if pending else {}
            if failures:
                raise InstallFailed(failures, what)
        _write_notice(root)


def _verified(manifest: Manifest, root: Path, step: Step, report: Reporter) -> bool:
    title = f"verify {step.title}"
    bar = report.step(title)
    bar.set_total(sum(record.size for record in manifest.steps[step.name].files.values()))
    ok = manifest.step_verified(root, step.name, bar.advance)
    report.finish(title, "ok" if ok else "mismatch", ok=ok)
    return ok


def _run_steps(
    steps: list[Step], manifest: Manifest, root: Path, report: Reporter
) -> dict[str, str]:
    for leftover in root.glob(".staging-*"):  # only a hard kill leaves these behind
        shutil.rmtree(leftover, ignore_errors=True)
    failures: dict[str, str] = {}
    for step in steps:
        with tempfile.TemporaryDirectory(prefix=f".staging-{step.name}-", dir=root) as tmp:
            context = StepContext(root, Path(tmp), report.step(step.title), _repo_root())
            try:
                files = step.run(context)
            except (AssetError, FetchError, OSError, tarfile.TarError) as error:
                failures[step.name] = str(error)
                report.finish(step.title, "failed", ok=False)
                continue
        manifest.steps[step.name] = StepRecord(recipe=step.recipe, files=files)
        # Saved after every step, so a later failure keeps what already succeeded.
        manifest.save(root / MANIFEST_NAME)
        report.finish(step.title, f"{len(files)} files", ok=True)
    return failures


def _write_notice(root: Path) -> None:
    text = notice_text(_read_text(root / SMART_TURN_LICENSE), _read_text(root / VISION_LICENSE))
    notice = root / "NOTICE"
    if not notice.exists() or notice.read_text(encoding="utf-8") != text:
        write_atomically(notice, text.encode())


def _read_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def _repo_root() -> Path | None:
    """The source checkout this module runs from, if any (for its ``.tools`` Python)."""
    candidate = Path(__file__).resolve().parents[3]
    return candidate if (candidate / "pyproject.toml").is_file() else None


@contextlib.contextmanager
def _install_lock(root: Path) -> Iterator[None]:
    """Two processes installing at once (a server and a test run) take turns."""
    try:
        handle = (root / ".install.lock").open("a")
    except OSError:  # a read-only, pre-installed models_dir: nothing will be written anyway
        handle = None
    if fcntl is None or handle is None:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
