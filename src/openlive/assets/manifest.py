"""``models_dir/manifest.json``: what each install step wrote, with sizes and sha256.

The manifest is what makes re-running the installer cheap: a step whose recipe is unchanged and
whose files all exist with the recorded sizes is trusted without re-hashing ~250 MB of weights.
Hashing again is opt-in (``--verify``)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
FORMAT = 1
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRecord:
    size: int
    sha256: str


@dataclass
class StepRecord:
    recipe: str
    """Names the pinned source (package versions, expected checksums); a change re-installs."""
    files: dict[str, FileRecord]
    """Keyed by path relative to ``models_dir``, with forward slashes."""
    installed_at: str = field(default_factory=lambda: _now())


@dataclass
class Manifest:
    steps: dict[str, StepRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """An empty manifest when the file is absent or unreadable: everything reinstalls."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                return cls()
            return cls(
                steps={
                    name: StepRecord(
                        recipe=step["recipe"],
                        installed_at=step.get("installed_at", ""),
                        files={
                            rel: FileRecord(size=int(rec["size"]), sha256=str(rec["sha256"]))
                            for rel, rec in step["files"].items()
                        },
                    )
                    for name, step in raw["steps"].items()
                }
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def save(self, path: Path) -> None:
        body: dict[str, Any] = {
            "format": FORMAT,
            "steps": {
                name: {
                    "recipe": step.recipe,
                    "installed_at": step.installed_at,
                    "files": {
                        rel: {"size": rec.size, "sha256": rec.sha256}
                        for rel, rec in sorted(step.files.items())
                    },
                }
                for name, step in sorted(self.steps.items())
            },
        }
        write_atomically(path, (json.dumps(body, indent=2) + "\n").encode())

    def step_present(self, models_dir: Path, name: str, recipe: str | None = None) -> bool:
        """Recorded (with this recipe, when given) and every file there with its recorded size."""
        step = self.steps.get(name)
        if step is None or not step.files or (recipe is not None and step.recipe != recipe):
            return False
        for rel, rec in step.files.items():
            try:
                if (models_dir / rel).stat().st_size != rec.size:
                    return False
            except OSError:
                return False
        return True

    def step_verified(
        self, models_dir: Path, name: str, on_bytes: Callable[[int], None] | None = None
    ) -> bool:
        """Like :meth:`step_present`, and every file's sha256 recomputed and matching."""
        if not self.step_present(models_dir, name):
            return False
        return all(
            sha256_file(models_dir / rel, on_bytes) == rec.sha256
            for rel, rec in self.steps[name].files.items()
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest()


def record_of(path: Path) -> FileRecord:
    return FileRecord(size=path.stat().st_size, sha256=sha256_file(path))


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; these files are not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
