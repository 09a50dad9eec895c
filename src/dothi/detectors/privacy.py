"""Privacy: faces and number plates are pixelated in every snapshot that is stored or shown.

The originals are never encoded here: `snapshot` is the only way a frame leaves the
analytics as a picture, and it always redacts first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import cache

import cv2
import numpy

from dothi.detectors.base import Box, Detector, Frame
from dothi.detectors.configs import FacesConfig, PlatesConfig
from dothi.detectors.registry import build

MARGIN = 0.25  # share of a region's size added on each side: hair, ears, the plate's frame
BLOCKS = 6  # a redacted region keeps at most this many blocks across


def pixelate(frame: Frame, boxes: Iterable[Box], margin: float = MARGIN) -> Frame:
    """A copy of `frame` with each box (widened by `margin`) pixelated and then smoothed."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for box in boxes:
        grown = box.grown(margin, width, height)
        x1, y1, x2, y2 = int(grown.x1), int(grown.y1), int(grown.x2 + 0.5), int(grown.y2 + 0.5)
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = out[y1:y2, x1:x2]
        across = max(1, min(BLOCKS, (x2 - x1) // 4))
        down = max(1, round(across * (y2 - y1) / (x2 - x1)))
        small = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        # Smoothing the block edges leaves no sharp pattern a detector could latch onto.
        kernel = max(3, ((x2 - x1) // across) | 1)
        out[y1:y2, x1:x2] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    return out


class Redactor:
    """Finds faces and plates in a frame and hides them."""

    def __init__(self, detectors: Sequence[Detector] | None = None) -> None:
        self.detectors = (
            list(detectors)
            if detectors is not None
            else [build(FacesConfig()), build(PlatesConfig())]
        )

    def regions(self, frame: Frame) -> list[Box]:
        return [d.box for detector in self.detectors for d in detector.detect(frame)]

    def redact(self, frame: Frame, also: Iterable[Box] = ()) -> Frame:
        """`frame` with its faces, plates and the `also` boxes pixelated."""
        return pixelate(frame, [*self.regions(frame), *also])

    def snapshot(self, frame: Frame, quality: int = 80) -> bytes:
        """A JPEG of the redacted frame."""
        ok, encoded = cv2.imencode(".jpg", self.redact(frame), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError("the frame could not be encoded as JPEG")
        return bytes(encoded.tobytes())


_redacting = threading.Lock()


@cache
def _redactor() -> Redactor:
    return Redactor()


def redact_picture(picture: bytes) -> bytes:
    """A camera's picture (JPEG, PNG…) as a JPEG with its faces and plates pixelated, by one
    redactor per process (its models load once, it works one picture at a time);
    ValueError if it is not a picture."""
    frame = cv2.imdecode(numpy.frombuffer(picture, numpy.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise ValueError("not a picture")
    with _redacting:
        return _redactor().snapshot(frame)
