"""Vehicles without a model: moving blobs of a vehicle's size and shape.

Blobs cannot tell a car from a cart; a scene with many people calls for a model (`onnx`).
"""

from __future__ import annotations

from dothi.detectors.base import Detection, Frame
from dothi.detectors.configs import VehiclesConfig
from dothi.detectors.motion import MotionDetector


class VehicleDetector:
    """Moving blobs kept when their area and width ÷ height fit a vehicle's."""

    def __init__(self, config: VehiclesConfig) -> None:
        self.config = config
        self._motion = MotionDetector(config.motion)

    def detect(self, frame: Frame) -> list[Detection]:
        frame_area = float(frame.shape[0] * frame.shape[1])
        c = self.config
        return [
            Detection(d.box, "vehicle", d.score)
            for d in self._motion.detect(frame)
            if c.min_area <= d.box.area / frame_area <= c.max_area
            and c.min_aspect <= d.box.width / max(d.box.height, 1.0) <= c.max_aspect
        ]
