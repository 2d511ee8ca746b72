"""Camera frames → text for the LLM: what objects, faces and text a frame shows.

``create_vision_engine(settings)`` gives the embedded stack or an operator's vision-language
model; ``engine.load()`` runs once at start, in a worker thread; then
``engine.describe(decode(jpeg, ImageLimits(), max_side=768)).as_text()`` reads like
``objects: 2 cups, laptop; faces: 1 (happy); text visible: "STOP"``.
"""

from .base import VisionEngine, VisionError
from .image import BadImage, ImageLimits, Probe, decode, probe, scene_distance, warm_up
from .registry import create_vision_engine
from .scene import Detection, FaceReading, SceneDescription

__all__ = [
    "BadImage",
    "Detection",
    "FaceReading",
    "ImageLimits",
    "Probe",
    "SceneDescription",
    "VisionEngine",
    "VisionError",
    "create_vision_engine",
    "decode",
    "probe",
    "scene_distance",
    "warm_up",
]
