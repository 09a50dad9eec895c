"""A user-supplied ONNX detector on ONNX Runtime (one thread: one camera per core)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import OnnxConfig


def session(model: str | bytes) -> Any:
    """An ONNX Runtime CPU session on one thread, quiet about harmless model warnings."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


class OnnxDetector:
    """Runs the model of `OnnxConfig` (see its contract) on a frame."""

    def __init__(self, config: OnnxConfig) -> None:
        self.config = config
        self._session = session(str(config.path))
        self._input = self._session.get_inputs()[0].name

    def detect(self, frame: Frame) -> list[Detection]:
        c = self.config
        height, width = frame.shape[:2]
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, (c.width, c.height), swapRB=True)
        output = np.asarray(self._session.run(None, {self._input: blob})[0]).reshape(-1, 6)
        return [
            Detection(
                Box(float(x1) * width, float(y1) * height, float(x2) * width, float(y2) * height),
                c.labels[int(label)] if 0 <= int(label) < len(c.labels) else str(int(label)),
                float(score),
            )
            for x1, y1, x2, y2, score, label in output
            if score >= c.threshold
        ]
