"""Rules on tracks → events: line crossings with direction, crowding, loitering, vehicles
parked where they may not, entries into a restricted zone at night.

Each rule sees the tracks updated in a frame and keeps what it needs per track id; state
of tracks no longer seen is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from dothi.detectors.base import Box
from dothi.detectors.geometry import Point, inside, segments_cross, side
from dothi.detectors.settings import (
    AnalyticsSettings,
    CrowdingRule,
    Line,
    LoiteringRule,
    NoParkingRule,
    RestrictedRule,
    Rule,
)
from dothi.detectors.tracking import Track


@dataclass(frozen=True, slots=True)
class Event:
    """Something a rule saw. `snapshot` is a JPEG with faces and plates blurred."""

    kind: str  # line_crossing, crowding, loitering, no_parking, restricted
    at: datetime
    rule: str  # the line's or zone's name
    label: str
    track_id: int | None = None
    direction: str | None = None  # forward, backward (line crossings)
    count: int | None = None  # objects in the zone (crowding)
    box: Box | None = None
    snapshot: bytes | None = None


@dataclass(frozen=True, slots=True)
class Moment:
    """The time of a frame: wall clock (for night and reports) and stream seconds."""

    at: datetime
    seconds: float


class TrackRule(Protocol):
    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        """Events from the tracks seen in one frame."""
        ...


class LineCounter:
    """Counts crossings of one line, both ways, by label."""

    def __init__(self, line: Line, width: int, height: int) -> None:
        self.line = line
        self.a: Point = (line.a[0] * width, line.a[1] * height)
        self.b: Point = (line.b[0] * width, line.b[1] * height)
        self.counts: dict[tuple[str, str], int] = {}

    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        events = []
        for track in tracks:
            if track.label not in self.line.labels or track.previous is None:
                continue
            before, after = track.previous, track.center
            if not segments_cross(self.a, self.b, before, after):
                continue
            s_before, s_after = side(self.a, self.b, before), side(self.a, self.b, after)
            if s_before > 0 >= s_after:
                direction = "forward"
            elif s_before < 0 <= s_after:
                direction = "backward"
            else:
                continue  # came to rest on the line: counted when it leaves it
            key = (track.label, direction)
            self.counts[key] = self.counts.get(key, 0) + 1
            events.append(
                Event(
                    "line_crossing",
                    moment.at,
                    self.line.name,
                    track.label,
                    track.id,
                    direction=direction,
                    box=track.box,
                )
            )
        return events


GRACE = 3.0
"""Seconds a track may go unseen in a zone (a missed detection) and still be the same stay."""


@dataclass(slots=True)
class _Stay:
    entered: float  # stream seconds
    seen: float
    anchor: Point  # where it last came to rest
    still_since: float
    fired: bool = False


class _ZoneWatch:
    """What the zone rules share: the polygon in pixels and the stays of tracks in it."""

    def __init__(self, rule: Rule, polygon: Sequence[Point]) -> None:
        self.polygon = list(polygon)
        self.labels = rule.labels
        self.stays: dict[int, _Stay] = {}

    def enter(self, tracks: Sequence[Track], seconds: float) -> list[tuple[Track, _Stay, bool]]:
        """The tracks in the zone now, their stays, and whether each just entered."""
        found = []
        for track in tracks:
            if track.label not in self.labels or not inside(self.polygon, track.center):
                continue
            stay = self.stays.get(track.id)
            new = stay is None
            if stay is None:
                stay = self.stays[track.id] = _Stay(seconds, seconds, track.center, seconds)
            stay.seen = seconds
            found.append((track, stay, new))
        for track_id in [k for k, s in self.stays.items() if seconds - s.seen > GRACE]:
            del self.stays[track_id]
        return found


class Crowding(_ZoneWatch):
    """Fires when the zone holds more than the limit, again only after it has eased."""

    def __init__(self, rule: CrowdingRule, polygon: Sequence[Point]) -> None:
        super().__init__(rule, polygon)
        self.rule = rule
        self.over = False
        self.occupancy = 0

    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        found = self.enter(tracks, moment.seconds)
        self.occupancy = len(found)
        was_over, self.over = self.over, self.occupancy > self.rule.limit
        if not self.over or was_over:
            return []
        label = found[0][0].label
        return [Event("crowding", moment.at, self.rule.zone, label, count=self.occupancy)]


class Loitering(_ZoneWatch):
    """Fires once per stay longer than the rule's seconds."""

    def __init__(self, rule: LoiteringRule, polygon: Sequence[Point]) -> None:
        super().__init__(rule, polygon)
        self.rule = rule

    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        events = []
        for track, stay, _new in self.enter(tracks, moment.seconds):
            if not stay.fired and moment.seconds - stay.entered >= self.rule.seconds:
                stay.fired = True
                events.append(_about(track, "loitering", moment, self.rule.zone))
        return events


class NoParking(_ZoneWatch):
    """Fires once per stop longer than the rule's seconds; moving on starts a new stop."""

    def __init__(self, rule: NoParkingRule, polygon: Sequence[Point], diagonal: float) -> None:
        super().__init__(rule, polygon)
        self.rule = rule
        self.tolerance = rule.tolerance * diagonal

    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        events = []
        for track, stay, _new in self.enter(tracks, moment.seconds):
            x, y = track.center
            if math.hypot(x - stay.anchor[0], y - stay.anchor[1]) > self.tolerance:
                stay.anchor, stay.still_since, stay.fired = (x, y), moment.seconds, False
            elif not stay.fired and moment.seconds - stay.still_since > self.rule.seconds:
                stay.fired = True
                events.append(_about(track, "no_parking", moment, self.rule.zone))
        return events


class Restricted(_ZoneWatch):
    """Fires for each entry into the zone at night (local time of the rule's zone)."""

    def __init__(self, rule: RestrictedRule, polygon: Sequence[Point]) -> None:
        super().__init__(rule, polygon)
        self.rule = rule
        self.zone_info = ZoneInfo(rule.timezone)

    def observe(self, tracks: Sequence[Track], moment: Moment) -> list[Event]:
        entered = [track for track, _stay, new in self.enter(tracks, moment.seconds) if new]
        if not entered or not self._night(moment.at.astimezone(self.zone_info).time()):
            return []
        return [_about(track, "restricted", moment, self.rule.zone) for track in entered]

    def _night(self, now: time) -> bool:
        start, end = self.rule.night_start, self.rule.night_end
        return start <= now < end if start < end else now >= start or now < end


def _about(track: Track, kind: str, moment: Moment, zone: str) -> Event:
    return Event(kind, moment.at, zone, track.label, track.id, box=track.box)


def build_rules(settings: AnalyticsSettings) -> tuple[list[LineCounter], list[TrackRule]]:
    """The line counters and zone rules of a camera, in pixels of its analysed frame."""
    w, h = settings.width, settings.height
    zones = {z.name: [(x * w, y * h) for x, y in z.points] for z in settings.zones}
    rules: list[TrackRule] = []
    for rule in settings.rules:
        polygon = zones[rule.zone]
        match rule:
            case CrowdingRule():
                rules.append(Crowding(rule, polygon))
            case LoiteringRule():
                rules.append(Loitering(rule, polygon))
            case NoParkingRule():
                rules.append(NoParking(rule, polygon, math.hypot(w, h)))
            case RestrictedRule():
                rules.append(Restricted(rule, polygon))
    return [LineCounter(line, w, h) for line in settings.lines], rules
