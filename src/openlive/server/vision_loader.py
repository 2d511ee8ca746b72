"""Load the vision engine once per process, beside the speech engines.

``OPENLIVE_VISION`` unset: on when the vision models are installed, quietly off otherwise.
``1``: install them if missing (as ``openlive models install`` does) and fail the start when that
or loading fails. ``0``: off. A configured vision-language model needs no installed assets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..assets import AssetsMissing, InstallFailed, ensure_vision_assets, vision_assets
from ..engines.vision import ImageLimits, VisionError, create_vision_engine, warm_up
from ..session import VisionServices
from ..settings import Settings

log = logging.getLogger("openlive.runtime")


class VisionUnavailable(Exception):
    """Vision was asked for (OPENLIVE_VISION=1) but could not be installed or loaded."""


async def load_vision(
    settings: Settings, report: Callable[[str, str], None]
) -> tuple[VisionServices | None, str]:
    """The vision services (None when off) and one line saying what camera frames get."""
    if settings.vision is False:
        return None, "off (OPENLIVE_VISION=0): camera frames are accepted and ignored"
    required = settings.vision is True
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        assets = None
        if not settings.vision_model:
            if required:
                report("vision", "installing models if needed")
                assets = await loop.run_in_executor(
                    None, lambda: ensure_vision_assets(settings.models_dir, progress=False)
                )
            else:
                assets = vision_assets(settings.models_dir)
        engine = create_vision_engine(settings, assets)
        report("vision", f"loading {engine.description}")
        await loop.run_in_executor(None, engine.load)
        await loop.run_in_executor(None, warm_up)  # Pillow's plugins: not on the first frame
    except (AssetsMissing, InstallFailed, VisionError) as error:
        if required:
            raise VisionUnavailable(str(error)) from error
        log.warning("vision off: %s", error)
        return None, f"off ({error})"
    report("vision", f"ready in {time.perf_counter() - started:.1f}s: {engine.description}")
    services = VisionServices(
        engine=engine,
        executor=ThreadPoolExecutor(
            max_workers=max(1, settings.vision_workers), thread_name_prefix="vision"
        ),
        probe_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="frames"),
        limits=ImageLimits(
            max_bytes=settings.vision_max_image_bytes,
            max_pixels=settings.vision_max_image_pixels,
        ),
        scene_change=settings.vision_scene_change,
        background=settings.vision_background,
    )
    return services, engine.description


def close_vision(vision: VisionServices | None) -> None:
    if vision is not None:
        vision.executor.shutdown(wait=False, cancel_futures=True)
        vision.probe_executor.shutdown(wait=False, cancel_futures=True)
