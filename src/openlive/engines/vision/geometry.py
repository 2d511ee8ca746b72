"""Box arithmetic shared by the detectors."""

from __future__ import annotations

import numpy as np


def nms(boxes: np.ndarray, scores: np.ndarray, iou_limit: float) -> list[int]:
    """Non-maximum suppression: indices of the boxes kept, best first. A box that overlaps a
    better kept box by more than ``iou_limit`` (intersection over union) is the same thing."""
    order = np.argsort(-scores)
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep: list[int] = []
    while order.size:
        first, rest = order[0], order[1:]
        keep.append(int(first))
        x1 = np.maximum(boxes[first, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[first, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[first, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[first, 3], boxes[rest, 3])
        overlap = (x2 - x1).clip(0) * (y2 - y1).clip(0)
        order = rest[overlap / (areas[first] + areas[rest] - overlap + 1e-9) < iou_limit]
    return keep
