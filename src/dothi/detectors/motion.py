"""Motion: background subtraction (MOG2 or KNN) on a shrunk grey frame → moving blobs."""

from __future__ import annotations

import cv2
import numpy as np

from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import MotionConfig

_KERNEL = np.ones((3, 3), np.uint8)


class MotionDetector:
    """Finds what moves against a background model learnt from the frames it is shown."""

    def __init__(self, config: MotionConfig) -> None:
        self.config = config
        self._model: cv2.BackgroundSubtractor
        if config.method == "mog2":
            self._model = cv2.createBackgroundSubtractorMOG2(
                config.history, config.threshold, detectShadows=False
            )
        else:
            self._model = cv2.createBackgroundSubtractorKNN(
                config.history, config.threshold, detectShadows=False
            )

    def detect(self, frame: Frame) -> list[Detection]:
        """Bounding boxes of the moving blobs of `frame`, larger than `min_area`."""
        scale = self.config.scale
        height, width = frame.shape[:2]
        small = cv2.resize(frame, (width // scale, height // scale), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        mask = self._model.apply(grey, learningRate=self.config.learning_rate)
        if cv2.countNonZero(mask) > self.config.max_share * mask.size:
            return []
        # Opening drops speckle; dilation joins the parts of one object (legs and body).
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
        mask = cv2.dilate(mask, _KERNEL, iterations=2)
        count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        smallest = self.config.min_area * mask.shape[0] * mask.shape[1]
        boxes = [
            Box(float(x), float(y), float(x + w), float(y + h))
            for x, y, w, h, _area in stats[1:count]
        ]
        # The parts of one object (a body cut by a pillar, legs) are joined before the size test.
        areas = {id(box): float(area) for box, area in zip(boxes, stats[1:count, 4], strict=True)}
        joined = join_boxes(boxes, areas, self.config.join * mask.shape[1])
        return [
            Detection(box.scaled(scale, scale), self.config.label, 1.0)
            for box, area in joined
            if area >= smallest
        ]


def join_boxes(boxes: list[Box], areas: dict[int, float], gap: float) -> list[tuple[Box, float]]:
    """Boxes less than `gap` apart merged into their union, with their summed pixel areas."""
    merged = [(box, areas[id(box)]) for box in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i][0], merged[j][0]
                if (
                    a.x1 - gap <= b.x2
                    and b.x1 - gap <= a.x2
                    and a.y1 - gap <= b.y2
                    and b.y1 - gap <= a.y2
                ):
                    union = Box(min(a.x1, b.x1), min(a.y1, b.y1), max(a.x2, b.x2), max(a.y2, b.y2))
                    merged[i] = (union, merged[i][1] + merged[j][1])
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged
