"""Faces found in a frame are unrecognisable in its snapshot."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dothi.detectors.base import Box, Frame
from dothi.detectors.configs import FacesConfig
from dothi.detectors.faces import FaceDetector
from dothi.detectors.privacy import Redactor, pixelate

FACE = Path(__file__).parent / "data" / "astronaut-face.jpg"


def _scene() -> Frame:
    """A 640×360 frame with the astronaut's portrait in it."""
    scene = np.full((360, 640, 3), 120, np.uint8)
    portrait = cv2.imread(str(FACE))
    assert portrait is not None
    scene[60:300, 200:440] = portrait
    return scene


def _sharpness(frame: Frame, box: Box) -> float:
    region = frame[int(box.y1) : int(box.y2), int(box.x1) : int(box.x2)]
    return float(cv2.Laplacian(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize("engine", ["centerface", "haar"])
def test_a_found_face_is_no_longer_found_nor_sharp_in_the_snapshot(engine: str) -> None:
    detector = FaceDetector(FacesConfig(engine=engine))
    assert detector.engine == engine
    scene = _scene()
    faces = detector.detect(scene)
    assert len(faces) == 1
    snapshot = cv2.imdecode(
        np.frombuffer(Redactor([detector]).snapshot(scene), np.uint8), cv2.IMREAD_COLOR
    )
    assert snapshot is not None
    assert detector.detect(snapshot) == []
    box = faces[0].box
    assert _sharpness(snapshot, box) < 0.1 * _sharpness(scene, box)


def test_pixelation_reaches_past_the_box_and_leaves_the_rest() -> None:
    scene = _scene()
    box = Box(260, 100, 330, 190)
    out = pixelate(scene, [box])
    assert not np.array_equal(out[95:100, 262:328], scene[95:100, 262:328])  # the margin
    assert np.array_equal(out[:, :200], scene[:, :200])
