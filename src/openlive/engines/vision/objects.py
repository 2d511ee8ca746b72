"""Objects in a frame: CenterNet (MobileNet-v3, COCO's 80 classes) on onnxruntime.

The network gives a 128×128 heatmap per class and box sizes; an object is a heatmap peak (a
value that is the maximum of its 3×3 neighbourhood) above the threshold. Boxes of the same class
that overlap much are one object (non-maximum suppression), so "2 cups" means two peaks far
enough apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .geometry import nms
from .onnx_session import cpu_session
from .scene import Detection

COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

INPUT_SIZE = 512
STRIDE = 4  # heatmap cell size in input pixels
CANDIDATES = 100
NMS_IOU = 0.4


class ObjectDetector:
    def __init__(
        self, model: Path, *, threads: int = 1, threshold: float = 0.4, max_objects: int = 20
    ) -> None:
        self.threshold = threshold
        self.max_objects = max_objects
        self._session = cpu_session(model, threads)
        self._input = self._session.get_inputs()[0].name

    def detect(self, image: Image.Image) -> list[Detection]:
        """Objects above the threshold, the most confident first."""
        resized = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
        pixels = np.asarray(resized, dtype=np.float32)[None]  # NHWC, 0–255: the model normalises
        heat, sizes = self._session.run(None, {self._input: pixels})
        heat, sizes = heat[0], sizes[0]  # (128, 128, 80), (128, 128, 4)
        _, grid_w, classes = heat.shape

        peaks = np.where(heat == _max_pool_3x3(heat), heat, 0.0).reshape(-1)
        best = np.argpartition(-peaks, CANDIDATES)[:CANDIDATES]
        best = best[peaks[best] >= self.threshold]
        best = best[np.argsort(-peaks[best])]
        scores = peaks[best]
        labels = best % classes
        cells = best // classes
        ys, xs = cells // grid_w, cells % grid_w
        extents = sizes[ys, xs]  # distances from the centre to the left, top, right, bottom edges
        boxes = np.stack(
            [
                xs * STRIDE - extents[:, 0],
                ys * STRIDE - extents[:, 1],
                xs * STRIDE + extents[:, 2],
                ys * STRIDE + extents[:, 3],
            ],
            axis=1,
        ) / float(INPUT_SIZE)

        detections: list[Detection] = []
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            for index in members[nms(boxes[members], scores[members], NMS_IOU)]:
                x1, y1, x2, y2 = (float(v) for v in np.clip(boxes[index], 0.0, 1.0))
                detections.append(
                    Detection(COCO_LABELS[int(label)], float(scores[index]), (x1, y1, x2, y2))
                )
        detections.sort(key=lambda d: -d.score)
        return detections[: self.max_objects]


def _max_pool_3x3(heat: np.ndarray) -> np.ndarray:
    padded = np.pad(heat, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    height, width = heat.shape[:2]
    result = padded[0:height, 0:width].copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(result, padded[dy : dy + height, dx : dx + width], out=result)
    return result
