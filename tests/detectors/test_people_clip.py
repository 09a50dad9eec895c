"""The person count from line crossing on a real clip, against a count made by hand.

Clip: `one-by-one-person-detection.mp4` (© Intel Corporation, CC BY 4.0, from
intel-iot-devkit/sample-videos), used from ../shared/data/video/, not copied here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dothi.detectors.configs import MotionConfig
from dothi.detectors.pipeline import Analyzer
from dothi.detectors.privacy import Redactor
from dothi.detectors.settings import AnalyticsSettings, Line
from dothi.detectors.video import sample

CLIP = Path(__file__).parents[3] / "shared" / "data" / "video" / "one-by-one-person-detection.mp4"

# Counted by hand from stills one second apart: six people, one at a time, walk in from
# the bottom of the picture, stand at the table, and leave past its right edge. Each
# crosses a vertical line at three quarters of the width once, left to right, at about:
HAND_COUNTED_EXITS = [19, 44, 69, 86, 119, 135]  # seconds into the clip


@pytest.mark.skipif(not CLIP.exists(), reason="the shared test clips are not there")
def test_people_leaving_are_counted_within_15_percent_of_the_hand_count() -> None:
    settings = AnalyticsSettings(
        enabled=True,
        fps=2,
        detector=MotionConfig(label="person", min_area=0.01),
        lines=[Line(name="exit", a=(0.75, 0.0), b=(0.75, 1.0), labels=["person"])],
    )
    analyzer = Analyzer(settings, redactor=lambda: Redactor([]))
    start = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    crossings = [
        event
        for item in sample(str(CLIP), settings.fps, settings.width, settings.height)
        for event in analyzer.process(item.frame, item.seconds, start)
    ]
    leaving = [e for e in crossings if e.direction == "forward"]
    expected = len(HAND_COUNTED_EXITS)
    assert abs(len(leaving) - expected) <= 0.15 * expected
    assert len(crossings) - len(leaving) <= 0.15 * expected  # hardly anyone counted coming back
    seconds = [(e.at - start).total_seconds() for e in leaving]
    matched = [s for s in seconds if any(abs(s - h) <= 2 for h in HAND_COUNTED_EXITS)]
    assert len(matched) >= expected - 1
