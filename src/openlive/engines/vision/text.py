"""Text in a frame: PP-OCR (detection + recognition) from the rapidocr wheel, on onnxruntime.

Detection runs on the frame shrunk to at most ``detect_side`` pixels (512 read every test sign and
receipt, at a third of the cost of 960); recognition reads each found line from the frame as
given, so a larger analysis resolution still helps small print. The orientation classifier is
off: camera text is upright or close to it. Words that PP-OCR returns as separate boxes on one
visual line (a receipt's item and its price) are joined into one line, left to right."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("openlive.vision")


@dataclass(frozen=True)
class TextBox:
    text: str
    score: float
    left: float
    top: float
    bottom: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)


class TextReader:
    def __init__(
        self,
        *,
        threads: int = 1,
        detect_side: int = 512,
        min_score: float = 0.8,
        min_chars: int = 2,
    ) -> None:
        from rapidocr import RapidOCR

        self.min_score = min_score
        self.min_chars = min_chars
        # rapidocr's own logger otherwise prints every model path at INFO.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._engine: Any = RapidOCR(
            params={
                "EngineConfig.onnxruntime.intra_op_num_threads": max(1, threads),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "Det.limit_type": "max",
                "Det.limit_side_len": detect_side,
                "Global.use_cls": False,
                "Global.log_level": "error",
            }
        )

    def warm_up(self) -> None:
        """rapidocr loads its models on first use; do that now, not on a user's first frame."""
        image = Image.new("RGB", (160, 48), "white")
        ImageDraw.Draw(image).text((8, 8), "warm up", fill="black", font=ImageFont.load_default(24))
        self.read(image)

    def read(self, image: Image.Image) -> list[str]:
        """The lines of text, top to bottom, each exactly as recognised."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        result = self._engine(bgr)
        texts = list(result.txts or [])
        if not texts:
            return []
        boxes = []
        for text, score, corners in zip(texts, result.scores, result.boxes, strict=True):
            text = text.strip()
            if score < self.min_score or len(text) < self.min_chars:
                continue
            ys = [float(point[1]) for point in corners]
            xs = [float(point[0]) for point in corners]
            boxes.append(TextBox(text, float(score), min(xs), min(ys), max(ys)))
        return join_lines(boxes)


def join_lines(boxes: list[TextBox]) -> list[str]:
    """Group boxes whose vertical middles are within half a box height of each other."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.middle):
        line = lines[-1] if lines else None
        if line is not None and abs(box.middle - line[0].middle) < 0.5 * min(
            box.height, line[0].height
        ):
            line.append(box)
        else:
            lines.append([box])
    return [" ".join(b.text for b in sorted(line, key=lambda b: b.left)) for line in lines]
