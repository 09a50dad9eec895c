"""What every detector shares: a frame in, detections (box, label, score) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy.typing as npt

Frame = npt.NDArray[Any]
"""A BGR image of uint8, height × width × 3, as OpenCV and PyAV give it (OpenCV's stubs type
its results loosely, hence Any)."""


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixels of the frame it was found in."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def grown(self, margin: float, width: int, height: int) -> Box:
        """This box widened by `margin` of its size on each side, clipped to the frame."""
        dx, dy = self.width * margin, self.height * margin
        return Box(
            max(self.x1 - dx, 0.0),
            max(self.y1 - dy, 0.0),
            min(self.x2 + dx, float(width)),
            min(self.y2 + dy, float(height)),
        )

    def iou(self, other: Box) -> float:
        """Intersection over union, 0 for disjoint boxes."""
        inter = Box(
            max(self.x1, other.x1),
            max(self.y1, other.y1),
            min(self.x2, other.x2),
            min(self.y2, other.y2),
        ).area
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Detection:
    """One thing found in a frame."""

    box: Box
    label: str  # person, vehicle, face, plate, motion, or a user model's class
    score: float
    # What was read on it (a plate's number: personal data, hence kept out of its repr).
    text: str | None = field(default=None, repr=False)


class Detector(Protocol):
    """A plugin that finds things in a frame; it may keep state between frames (motion)."""

    def detect(self, frame: Frame) -> list[Detection]:
        """The detections in `frame`, boxes in its pixels."""
        ...
