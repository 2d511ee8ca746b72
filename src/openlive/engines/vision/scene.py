"""What a vision engine saw in one frame, and the one line of text the LLM reads about it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# COCO labels whose plural is not "+s". Labels already plural or uncountable stay as they are.
_PLURALS = {
    "person": "people",
    "bus": "buses",
    "knife": "knives",
    "mouse": "mice",
    "sheep": "sheep",
    "skis": "skis",
    "scissors": "scissors",
    "wine glass": "wine glasses",
    "couch": "couches",
    "bench": "benches",
    "sandwich": "sandwiches",
    "toothbrush": "toothbrushes",
    "potted plant": "potted plants",
    "broccoli": "broccoli",
}


def plural(label: str, count: int) -> str:
    """``cup`` → ``cup``, ``2 cups``; ``person`` → ``3 people``."""
    if count == 1:
        return label
    return f"{count} {_PLURALS.get(label, label + 's')}"


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]
    """(x1, y1, x2, y2) as fractions of the frame's width and height."""


@dataclass(frozen=True)
class FaceReading:
    score: float
    expression: str
    """angry, disgust, fear, happy, sad, surprise or neutral."""
    expression_score: float
    width: float
    """The face's width as a fraction of the frame's."""


@dataclass
class SceneDescription:
    objects: list[Detection] = field(default_factory=list)
    faces: list[FaceReading] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)
    """Text read in the frame, one visual line each, top to bottom, exactly as recognised."""
    dark: bool = False
    caption: str = ""
    """Free text from a vision-language model, when one is configured."""

    def object_counts(self) -> list[tuple[str, int]]:
        """Labels with their counts, the most frequent first, then in order of first detection."""
        counts = Counter(detection.label for detection in self.objects)  # keeps first-seen order
        return sorted(counts.items(), key=lambda item: -item[1])  # a stable sort

    @property
    def is_empty(self) -> bool:
        return not (self.objects or self.faces or self.text_lines or self.dark or self.caption)

    def as_text(self) -> str:
        """``objects: 2 cups, laptop; faces: 1 (happy); text visible: "STOP"``."""
        parts: list[str] = []
        if self.caption:
            parts.append(self.caption.strip())
        if self.objects:
            parts.append(
                "objects: "
                + ", ".join(plural(label, count) for label, count in self.object_counts())
            )
        if self.faces:
            expressions = ", ".join(face.expression for face in self.faces)
            parts.append(f"faces: {len(self.faces)} ({expressions})")
        if self.text_lines:
            parts.append("text visible: " + " / ".join(f'"{line}"' for line in self.text_lines))
        if self.dark:
            parts.append("the image is very dark")
        return "; ".join(parts) if parts else "nothing recognised"
