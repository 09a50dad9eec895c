"""The analytics of one camera: frame → motion gate → detector where it moves → tracker →
rules → events with redacted snapshots, and counts for the next report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import cv2

from dothi.detectors.base import Box, Detection, Detector, Frame
from dothi.detectors.events import Crowding, Event, LineCounter, Moment, TrackRule, build_rules
from dothi.detectors.motion import MotionDetector
from dothi.detectors.privacy import Redactor
from dothi.detectors.registry import build
from dothi.detectors.settings import AnalyticsSettings
from dothi.detectors.tracking import Tracker

MOTION_TYPES = frozenset({"motion", "vehicles"})
"""Detectors that are background subtraction themselves: no separate gate runs for them."""

REGION_MARGIN = 0.3  # around the moving area, share of its size: the detector needs context
FULL_FRAME = 0.6  # a moving area larger than this share of the frame: detect on all of it


@dataclass
class Report:
    """What happened since the last report: crossings by label and direction, the most
    objects seen at once in a crowding zone, and the kinds of events."""

    crossings: Counter[tuple[str, str]] = field(default_factory=Counter)
    crowding: int = 0
    events: Counter[str] = field(default_factory=Counter)


class Analyzer:
    """Analyses the sampled frames of one camera in order."""

    def __init__(
        self,
        settings: AnalyticsSettings,
        detector: Detector | None = None,
        redactor: Callable[[], Redactor] = Redactor,
    ) -> None:
        self.settings = settings
        self.detector = detector or build(settings.detector)
        gated = settings.detector.type not in MOTION_TYPES
        self.gate = MotionDetector(settings.motion) if gated else None
        diagonal = math.hypot(settings.width, settings.height)
        self.tracker = Tracker(max_distance=settings.track_distance * diagonal)
        self.lines: list[LineCounter]
        self.rules: list[TrackRule]
        self.lines, self.rules = build_rules(settings)
        self._make_redactor = redactor
        self._redactor: Redactor | None = None
        self.report = Report()
        self.frames = 0

    def process(self, frame: Frame, seconds: float, start: datetime) -> list[Event]:
        """Analyse the frame at `seconds` into the stream that began at `start`; its events."""
        s = self.settings
        if frame.shape[1] != s.width or frame.shape[0] != s.height:
            frame = cv2.resize(frame, (s.width, s.height), interpolation=cv2.INTER_AREA)
        self.frames += 1
        moment = Moment(start + timedelta(seconds=seconds), seconds)
        tracks = self.tracker.update(self._detect(frame), seconds)
        events = [e for line in self.lines for e in line.observe(tracks, moment)]
        events += [e for rule in self.rules for e in rule.observe(tracks, moment)]
        self._count(events)
        if not events:
            return []
        snapshot = self._snapshot(frame)
        return [replace(e, snapshot=snapshot) for e in events]

    def take_report(self) -> Report:
        """The report so far; a new one starts."""
        report, self.report = self.report, Report()
        return report

    def _detect(self, frame: Frame) -> list[Detection]:
        if self.gate is None:
            return self.detector.detect(frame)
        moving = self.gate.detect(frame)
        if not moving:
            return []
        height, width = frame.shape[:2]
        area = Box(
            min(d.box.x1 for d in moving),
            min(d.box.y1 for d in moving),
            max(d.box.x2 for d in moving),
            max(d.box.y2 for d in moving),
        ).grown(REGION_MARGIN, width, height)
        if area.area > FULL_FRAME * width * height:
            return self.detector.detect(frame)
        x1, y1 = int(area.x1), int(area.y1)
        crop = frame[y1 : int(area.y2), x1 : int(area.x2)]
        return [replace(d, box=d.box.shifted(x1, y1)) for d in self.detector.detect(crop)]

    def _count(self, events: list[Event]) -> None:
        report = self.report
        for event in events:
            report.events[event.kind] += 1
            if event.kind == "line_crossing" and event.direction:
                report.crossings[(event.label, event.direction)] += 1
        for rule in self.rules:
            if isinstance(rule, Crowding):
                report.crowding = max(report.crowding, rule.occupancy)

    def _snapshot(self, frame: Frame) -> bytes:
        if self._redactor is None:
            self._redactor = self._make_redactor()
        return self._redactor.snapshot(frame)
