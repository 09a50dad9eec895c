"""A greedy IOU-and-centroid tracker: detections of successive frames joined into tracks.

At 2 frames a second an object moves far between frames, so boxes that do not overlap
may still match: by the distance of their centres from where the track was heading.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from dothi.detectors.base import Box, Detection
from dothi.detectors.geometry import Point

MAX_GROWTH = math.log(4.0)
"""A track's box may grow or shrink fourfold between two frames (entering, leaving the frame)."""


@dataclass(slots=True)
class Track:
    """One object followed over frames; times are seconds of the stream."""

    id: int
    label: str
    box: Box
    first_seen: float
    last_seen: float
    previous: Point | None = None  # the centre before the last update
    velocity: Point = (0.0, 0.0)  # pixels a second
    hits: int = 1
    missed: int = 0  # frames since last matched

    @property
    def center(self) -> Point:
        return self.box.center

    def predicted(self, at: float) -> Point:
        """Where the centre should be at time `at`, going on as it went."""
        dt = at - self.last_seen
        x, y = self.center
        return x + self.velocity[0] * dt, y + self.velocity[1] * dt


@dataclass
class Tracker:
    """Matches each frame's detections to live tracks, one label at a time."""

    max_distance: float = 120.0  # pixels between a predicted and a found centre
    max_missed: int = 2  # frames a track survives unseen
    tracks: list[Track] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def update(self, detections: Sequence[Detection], at: float) -> list[Track]:
        """Fold in the detections of the frame at `at`; the tracks seen in it."""
        pairs = sorted(
            (cost, t, d)
            for t, track in enumerate(self.tracks)
            for d, found in enumerate(detections)
            if found.label == track.label and (cost := self._cost(track, found.box, at)) is not None
        )
        used_tracks: set[int] = set()
        used_detections: set[int] = set()
        seen: list[Track] = []
        for _cost, t, d in pairs:
            if t in used_tracks or d in used_detections:
                continue
            used_tracks.add(t)
            used_detections.add(d)
            seen.append(self._follow(self.tracks[t], detections[d].box, at))
        for t, track in enumerate(self.tracks):
            if t not in used_tracks:
                track.missed += 1
        self.tracks = [track for track in self.tracks if track.missed <= self.max_missed]
        for d, found in enumerate(detections):
            if d not in used_detections:
                track = Track(next(self._ids), found.label, found.box, at, at)
                self.tracks.append(track)
                seen.append(track)
        return seen

    def _cost(self, track: Track, box: Box, at: float) -> float | None:
        """Lower is a better match; None when they cannot be the same object."""
        overlap = track.box.iou(box)
        if overlap > 0.3:
            return 1.0 - overlap
        # A fragment (a shadow, a leg) is much smaller than the object: size must match too.
        growth = abs(math.log(max(box.area, 1.0) / max(track.box.area, 1.0)))
        px, py = track.predicted(at)
        cx, cy = box.center
        distance = math.hypot(cx - px, cy - py)
        if distance > self.max_distance or growth > MAX_GROWTH:
            return None
        return 1.0 + distance / self.max_distance + growth / MAX_GROWTH

    @staticmethod
    def _follow(track: Track, box: Box, at: float) -> Track:
        old = track.center
        track.previous = old
        track.box = box
        dt = at - track.last_seen
        if dt > 0:
            new = box.center
            track.velocity = ((new[0] - old[0]) / dt, (new[1] - old[1]) / dt)
        track.last_seen = at
        track.hits += 1
        track.missed = 0
        return track
