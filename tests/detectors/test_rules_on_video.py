"""Line counts and the no-parking rule on a synthetic video with known movements."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from dothi.detectors.configs import VehiclesConfig
from dothi.detectors.events import Event
from dothi.detectors.pipeline import Analyzer
from dothi.detectors.privacy import Redactor
from dothi.detectors.settings import AnalyticsSettings, Line, NoParkingRule, Zone
from dothi.detectors.video import sample
from tests.detectors.synthetic import Mover, write_video

START = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hồ Chí Minh City

MOVERS = [
    # Upper half, across the counting line at x = 320: two to the right, one to the left.
    Mover(((10, -40, 70), (70, 680, 70))),
    Mover(((30, 680, 170), (90, -40, 170)), colour=(60, 230, 230)),
    Mover(((80, -40, 120), (130, 680, 120)), colour=(240, 240, 240)),
    # Lower half: one stops in the no-parking zone for 7 s, one drives through it.
    Mover(((10, -40, 290), (40, 320, 290), (110, 320, 290), (130, 680, 290))),
    Mover(((140, -40, 320), (180, 680, 320)), colour=(30, 150, 200)),
]
FRAMES = 190


def _settings() -> AnalyticsSettings:
    return AnalyticsSettings(
        enabled=True,
        fps=2,
        detector=VehiclesConfig(),
        lines=[Line(name="north", a=(0.5, 0.0), b=(0.5, 0.5))],
        zones=[Zone(name="kerb", points=[(0.3, 0.62), (0.7, 0.62), (0.7, 1.0), (0.3, 1.0)])],
        rules=[NoParkingRule(zone="kerb", seconds=4)],
    )


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[Event]:
    path = write_video(tmp_path_factory.mktemp("video") / "street.mp4", MOVERS, FRAMES)
    settings = _settings()
    analyzer = Analyzer(settings, redactor=lambda: Redactor([]))
    found: list[Event] = []
    for item in sample(str(path), settings.fps, settings.width, settings.height):
        found += analyzer.process(item.frame, item.seconds, START)
    return found


def test_line_counts_are_exact_both_ways(events: list[Event]) -> None:
    crossings = Counter(e.direction for e in events if e.kind == "line_crossing")
    assert crossings == {"forward": 2, "backward": 1}


def test_a_vehicle_stopped_in_the_zone_fires_once_one_driving_through_never(
    events: list[Event],
) -> None:
    parked = [e for e in events if e.kind == "no_parking"]
    assert len(parked) == 1
    assert parked[0].box is not None and 200 < parked[0].box.center[0] < 440
    assert parked[0].at < datetime(2026, 5, 1, 3, 0, 12, tzinfo=UTC)


def test_events_carry_a_jpeg_snapshot(events: list[Event]) -> None:
    assert events and all(e.snapshot and e.snapshot[:2] == b"\xff\xd8" for e in events)
