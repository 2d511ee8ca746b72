"""Faces and their expressions: BlazeFace (MediaPipe, back-camera model) finds faces, a small CNN
(oarriaga/face_classification) names the expression of each, both on onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .geometry import nms
from .onnx_session import cpu_session
from .scene import FaceReading

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
DETECTOR_SIZE = 256
EMOTION_SIZE = 64
NMS_IOU = 0.3
GREY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)


def _anchors(size: int = DETECTOR_SIZE) -> np.ndarray:
    """Anchor centres in input pixels: 2 per cell of a 16-px grid, then 6 per cell of a 32-px
    grid — the order of the model's two output heads."""
    centres: list[tuple[float, float]] = []
    for stride, per_cell in ((16, 2), (32, 6)):
        cells = size // stride
        for gy in range(cells):
            for gx in range(cells):
                centres += [(stride * (gx + 0.5), stride * (gy + 0.5))] * per_cell
    return np.array(centres, dtype=np.float32)


class FaceReader:
    def __init__(
        self,
        detector: Path,
        emotion: Path,
        *,
        threads: int = 1,
        threshold: float = 0.8,
        max_faces: int = 5,
    ) -> None:
        self.threshold = threshold
        self.max_faces = max_faces
        self._detector = cpu_session(detector, threads)
        self._emotion = cpu_session(emotion, threads)
        self._detector_input = self._detector.get_inputs()[0].name
        self._emotion_input = self._emotion.get_inputs()[0].name
        self._anchors = _anchors()

    def read(self, image: Image.Image) -> list[FaceReading]:
        boxes, scores = self._find(image)
        if not len(scores):
            return []
        width, height = image.size
        crops = []
        for x1, y1, x2, y2 in boxes:
            cx, cy = (x1 + x2) / 2 * width, (y1 + y2) / 2 * height
            side = max((x2 - x1) * width, (y2 - y1) * height) * 1.1
            square = (
                int(cx - side / 2),
                int(cy - side / 2),
                int(cx + side / 2),
                int(cy + side / 2),
            )
            crop = image.crop(square).resize(
                (EMOTION_SIZE, EMOTION_SIZE), Image.Resampling.BILINEAR
            )
            crops.append(np.asarray(crop, dtype=np.float32) / 255.0 @ GREY_WEIGHTS)
        batch = ((np.stack(crops) - 0.5) * 2.0)[..., None]  # (faces, 64, 64, 1) in [-1, 1]
        probabilities = self._emotion.run(None, {self._emotion_input: batch})[0]
        readings = []
        for box, score, p in zip(boxes, scores, probabilities, strict=True):
            best = int(np.argmax(p))
            readings.append(
                FaceReading(
                    score=float(score),
                    expression=EXPRESSIONS[best],
                    expression_score=float(p[best]),
                    width=float(box[2] - box[0]),
                )
            )
        return readings

    def _find(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        """Face boxes (fractions of the frame) and scores, above the threshold, best first."""
        resized = image.resize((DETECTOR_SIZE, DETECTOR_SIZE), Image.Resampling.BILINEAR)
        pixels = np.asarray(resized, dtype=np.float32)[None] / 127.5 - 1.0
        outputs = self._detector.run(None, {self._detector_input: pixels})
        # Two heads of (regressors: 16 values, score: 1 value) per anchor; tell them by shape.
        by_shape = {tuple(o.shape[1:]): o[0] for o in outputs}
        regressors = np.concatenate([by_shape[(512, 16)], by_shape[(384, 16)]])
        logits = np.concatenate([by_shape[(512, 1)], by_shape[(384, 1)]])[:, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
        centres = regressors[:, 0:2] + self._anchors
        sizes = regressors[:, 2:4]
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1) / DETECTOR_SIZE
        keep = scores >= self.threshold
        boxes, scores = boxes[keep], scores[keep]
        if not len(scores):
            return boxes, scores
        kept = nms(boxes, scores, NMS_IOU)[: self.max_faces]
        return boxes[kept], scores[kept]
