"""What the session's camera saw: frames in, one ``[camera] ...`` note per user turn out.

Rules, in the order they apply:

- Every frame is validated (size, pixels, decodable) off the event loop; a bad one ends the
  session with 1007 and a reason. Validation also gives a 16×16 grey thumbnail.
- A frame whose thumbnail differs from the current scene's by less than ``scene_change`` belongs
  to that scene: it replaces the scene's newest frame and is never analysed on its own. So a
  1 FPS stream of a still scene costs one analysis, not one per second.
- A scene is analysed (decoded at the session's resolution, then described) at most once: in
  the background once it has held still for two frames (when the engine is cheap enough), or
  when a user turn ends and its description is needed.
- When a turn ends, the turn's scenes are described: the newest only, or, when the client's
  ``turnCoverage`` includes all video, every distinct scene seen since the previous turn
  (newest last, at most :data:`MAX_SCENES`). The note goes into the conversation as a user
  entry just before the user's message, so older entries never change (the prompt stays a
  byte-stable prefix for the LLM's cache).
- A scene described in one turn is not described again in the next unless it is seen again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engines.vision import BadImage, SceneDescription, decode, probe, scene_distance
from ..engines.vision.image import check_size
from ..protocol.errors import ProtocolError
from .clock import MONOTONIC, Clock
from .services import VisionServices

log = logging.getLogger("openlive.camera")

NOTE_PREFIX = "[camera]"
MAX_SCENES = 4
SETTLED_FRAMES = 2
BACKGROUND_INTERVAL_S = 1.0
"""At most one background analysis per session per second, however fast the scenes change."""

RESOLUTIONS = {
    "MEDIA_RESOLUTION_LOW": 384,
    "MEDIA_RESOLUTION_MEDIUM": 512,
    "MEDIA_RESOLUTION_HIGH": 768,
}
DEFAULT_RESOLUTION = 768
"""When the client does not say: Gemini's recommended frame size, where small print still reads."""

WHOLE_TURN_COVERAGES = {"TURN_INCLUDES_ALL_INPUT", "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"}


def analysis_resolution(media_resolution: str | None) -> int:
    return RESOLUTIONS.get(media_resolution or "", DEFAULT_RESOLUTION)


@dataclass(eq=False)
class _Scene:
    data: bytes  # the newest frame of this scene
    thumbnail: np.ndarray  # of the scene's first frame: slow drift still adds up to a change
    first_seen: float
    frames: int = 1
    analysis: asyncio.Task[SceneDescription | None] | None = None


class Camera:
    def __init__(
        self,
        vision: VisionServices,
        *,
        resolution: int = DEFAULT_RESOLUTION,
        whole_turn: bool = False,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.vision = vision
        self.resolution = resolution
        self.whole_turn = whole_turn
        self._clock = clock
        self._current: _Scene | None = None
        self._turn_scenes: list[_Scene] = []  # distinct scenes since the last note, newest last
        self._background: asyncio.Task[None] | None = None
        self._last_background = -BACKGROUND_INTERVAL_S
        self.frames_seen = 0
        self.analyses = 0

    # -- frames -------------------------------------------------------------------------------

    async def add_frame(self, data: bytes) -> None:
        """Validate one frame and file it under its scene. Raises ProtocolError (1007)."""
        limits = self.vision.limits
        scene = self._current
        if scene is not None and data == scene.data:  # the very same bytes: nothing to check
            self._same_scene(scene, data)
            return
        try:
            check_size(data, limits)
            loop = asyncio.get_running_loop()
            seen = await loop.run_in_executor(self.vision.probe_executor, probe, data, limits)
        except BadImage as error:
            raise ProtocolError(str(error)) from None
        scene = self._current
        if scene is not None and (
            scene_distance(scene.thumbnail, seen.thumbnail) < self.vision.scene_change
        ):
            self._same_scene(scene, data)
            return
        self.frames_seen += 1
        scene = _Scene(data, seen.thumbnail, self._clock.now())
        self._current = scene
        self._note_scene(scene)

    def _same_scene(self, scene: _Scene, data: bytes) -> None:
        self.frames_seen += 1
        scene.data = data
        scene.frames += 1
        self._note_scene(scene)

    def _note_scene(self, scene: _Scene) -> None:
        if scene not in self._turn_scenes:
            self._turn_scenes.append(scene)
            del self._turn_scenes[:-MAX_SCENES]
        if self.vision.background and self.vision.engine.analyses_in_background:
            self._kick_background()

    @property
    def has_new_frames(self) -> bool:
        return bool(self._turn_scenes)

    # -- turns --------------------------------------------------------------------------------

    async def note_for_turn(self) -> str | None:
        """The ``[camera] ...`` note for the user turn that just ended, or None when no frame came
        since the last note. Waits for the analyses it needs. Cancelling the wait (the turn was
        interrupted) keeps the frames for the next turn; the analyses themselves go on."""
        turn = list(self._turn_scenes)
        scenes = turn if self.whole_turn else turn[-1:]
        if not scenes:
            return None
        descriptions = [await asyncio.shield(self._analysis(scene)) for scene in scenes]
        # The turn's scenes are spent (older ones too, with the default coverage); frames that
        # came in while we waited belong to the next turn.
        self._turn_scenes = [s for s in self._turn_scenes if s not in turn]
        known = [d for d in descriptions if d is not None]
        if not known:
            return None
        return format_note(known)

    def _analysis(self, scene: _Scene) -> asyncio.Task[SceneDescription | None]:
        if scene.analysis is None:
            scene.analysis = asyncio.create_task(self._analyse(scene.data), name="camera-analysis")
        return scene.analysis

    async def _analyse(self, data: bytes) -> SceneDescription | None:
        loop = asyncio.get_running_loop()
        started = self._clock.now()
        try:
            description = await loop.run_in_executor(self.vision.executor, self._describe, data)
        except BadImage as error:  # validated already, so this is rare: say so, do not fail
            log.warning("camera frame could not be analysed: %s", error)
            return None
        except Exception:
            log.exception("camera frame analysis failed")
            return None
        self.analyses += 1
        log.debug(
            "camera: %s (%.0f ms)", description.as_text(), (self._clock.now() - started) * 1000
        )
        return description

    def _describe(self, data: bytes) -> SceneDescription:
        image = decode(data, self.vision.limits, self.resolution)
        return self.vision.engine.describe(image)

    # -- background ---------------------------------------------------------------------------

    def _kick_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.create_task(self._analyse_settled(), name="camera")

    async def _analyse_settled(self) -> None:
        """Analyse the current scene once it has held still, at most once a second."""
        while True:
            scene = self._current
            if scene is None or scene.analysis is not None or scene.frames < SETTLED_FRAMES:
                return
            wait = self._last_background + BACKGROUND_INTERVAL_S - self._clock.now()
            if wait > 0:
                await self._clock.sleep(wait)
                continue
            self._last_background = self._clock.now()
            await asyncio.shield(self._analysis(scene))

    async def aclose(self) -> None:
        tasks: list[Any] = [self._background]
        scenes = [self._current, *self._turn_scenes]
        tasks += [scene.analysis for scene in scenes if scene is not None]
        for task in tasks:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def format_note(descriptions: list[SceneDescription]) -> str:
    if len(descriptions) == 1:
        return f"{NOTE_PREFIX} {descriptions[0].as_text()}"
    lines = [f"{NOTE_PREFIX} {len(descriptions)} scenes during this turn, oldest first:"]
    lines += [f"{i}. {d.as_text()}" for i, d in enumerate(descriptions, 1)]
    return "\n".join(lines)


def is_camera_note(entry: dict[str, Any]) -> bool:
    content = entry.get("content")
    return (
        entry.get("role") == "user" and isinstance(content, str) and content.startswith(NOTE_PREFIX)
    )


def attach_note(entries: list[dict[str, Any]], note: str) -> bool:
    """Put the note just before the user's newest message (the turn being answered). Only a turn
    that ends with a user message gets one; older entries are never touched."""
    if not entries or entries[-1].get("role") != "user":
        return False
    entries.insert(len(entries) - 1, {"role": "user", "content": note})
    return True


def camera_tokens(entries: list[dict[str, Any]], entry_tokens: Callable[[dict], int]) -> int:
    """Tokens spent on camera notes in the prompt: reported as the IMAGE modality."""
    return sum(entry_tokens(entry) for entry in entries if is_camera_note(entry))
