"""The built-in detector plugins by `type`; a plugin's module (and OpenCV) loads when built."""

from __future__ import annotations

import importlib
from typing import Any

from dothi.detectors.base import Detector
from dothi.detectors.configs import DetectorConfig

PLUGINS: dict[str, str] = {
    "motion": "dothi.detectors.motion:MotionDetector",
    "vehicles": "dothi.detectors.vehicles:VehicleDetector",
    "hog_people": "dothi.detectors.hog_people:HogPeopleDetector",
    "ssdlite_people": "dothi.detectors.ssdlite_people:SsdlitePeopleDetector",
    "faces": "dothi.detectors.faces:FaceDetector",
    "plates": "dothi.detectors.plates:PlateDetector",
    "onnx": "dothi.detectors.onnx_model:OnnxDetector",
}
"""Each `type` of `DetectorConfig` and the class that takes that config."""


def build(config: DetectorConfig) -> Detector:
    """The detector a config describes (its module is imported now, not before)."""
    module, name = PLUGINS[config.type].split(":")
    factory: Any = getattr(importlib.import_module(module), name)
    detector: Detector = factory(config)
    return detector
