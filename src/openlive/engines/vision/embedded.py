"""The embedded stack: text (PP-OCR), objects (CenterNet, COCO-80) and faces with expressions
(BlazeFace + a small CNN), all on onnxruntime. About 0.2 s per 768-px frame on one core."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ...assets.layout import VisionAssets
from .scene import SceneDescription

DARK_BELOW = 40.0  # mean grey level (0–255) under which we tell the LLM the frame is dark


@dataclass(frozen=True)
class EmbeddedVisionOptions:
    threads: int = 1
    objects: bool = True
    faces: bool = True
    text: bool = True
    object_threshold: float = 0.4
    face_threshold: float = 0.8
    text_threshold: float = 0.8
    text_detect_side: int = 512


class EmbeddedVision:
    analyses_in_background = True

    def __init__(self, assets: VisionAssets, options: EmbeddedVisionOptions | None = None) -> None:
        self.assets = assets
        self.options = options or EmbeddedVisionOptions()
        parts = [
            name
            for name, enabled in (
                ("text (PP-OCR)", self.options.text),
                ("objects (CenterNet COCO-80)", self.options.objects),
                ("faces and expressions (BlazeFace)", self.options.faces),
            )
            if enabled
        ]
        self.description = f"{', '.join(parts) or 'nothing'} on onnxruntime"
        self._objects = None
        self._faces = None
        self._text = None

    def load(self) -> None:
        from .faces import FaceReader
        from .objects import ObjectDetector
        from .text import TextReader

        options = self.options
        if options.objects:
            self._objects = ObjectDetector(
                self.assets.objects_model,
                threads=options.threads,
                threshold=options.object_threshold,
            )
        if options.faces:
            self._faces = FaceReader(
                self.assets.faces_model,
                self.assets.emotion_model,
                threads=options.threads,
                threshold=options.face_threshold,
            )
        if options.text:
            self._text = TextReader(
                threads=options.threads,
                detect_side=options.text_detect_side,
                min_score=options.text_threshold,
            )
            self._text.warm_up()
        self.describe(Image.new("RGB", (64, 64), "grey"))  # first runs allocate; do it now

    def describe(self, image: Image.Image) -> SceneDescription:
        image = image.convert("RGB")
        return SceneDescription(
            objects=self._objects.detect(image) if self._objects else [],
            faces=self._faces.read(image) if self._faces else [],
            text_lines=self._text.read(image) if self._text else [],
            dark=float(np.asarray(image.convert("L"), dtype=np.float32).mean()) < DARK_BELOW,
        )
