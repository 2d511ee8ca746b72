"""The vision engine interface: one upright RGB frame in, a :class:`SceneDescription` out.

Engines know nothing of sessions or the wire. ``describe`` blocks (tens of milliseconds to
seconds) and is called from a worker thread; the runtimes release the GIL while they compute."""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from .scene import SceneDescription


class VisionError(RuntimeError):
    """The engine could not load or could not analyse a frame."""


class VisionEngine(Protocol):
    description: str
    """What the operator sees at start-up: which models, where."""

    analyses_in_background: bool
    """Cheap enough to analyse every new scene as it appears, not only when a turn ends."""

    def load(self) -> None:
        """Load the models (and warm them up). Called once at start, in a worker thread."""

    def describe(self, image: Image.Image) -> SceneDescription: ...
