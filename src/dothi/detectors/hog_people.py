"""People with OpenCV's HOG descriptor and its default linear SVM (Dalal & Triggs, 2005).

Trained on upright pedestrians 64×128 pixels and larger; slow on a whole frame, so the
pipeline runs it only on the moving part of a frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import HogPeopleConfig

WINDOW = (64, 128)


class HogPeopleDetector:
    """Upright people, found by sliding HOG windows over an image pyramid."""

    def __init__(self, config: HogPeopleConfig) -> None:
        self.config = config
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector()))

    def detect(self, frame: Frame) -> list[Detection]:
        height, width = frame.shape[:2]
        if width < WINDOW[0] or height < WINDOW[1]:
            return []
        stride = (self.config.stride, self.config.stride)
        rects, weights = self._hog.detectMultiScale(
            frame, hitThreshold=self.config.threshold, winStride=stride, scale=self.config.pyramid
        )
        if len(rects) == 0:
            return []
        scores = np.asarray(weights, dtype=float).reshape(-1)
        boxes = [[int(v) for v in r] for r in rects]
        keep = np.asarray(cv2.dnn.NMSBoxes(boxes, scores.tolist(), 0.0, 0.4)).reshape(-1)
        return [
            Detection(
                Box(float(x), float(y), float(x + w), float(y + h)), "person", float(scores[i])
            )
            for i in keep
            for x, y, w, h in [boxes[i]]
        ]
