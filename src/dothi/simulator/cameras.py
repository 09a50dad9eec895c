"""The demo district's cameras, as the seeds plan them: 150 new traffic cameras at the
main-road intersections (looking down each road), 250 existing security cameras spread over
the 15 wards, a recorder (NVR) per ward; and their health, mostly online.

Deterministic for a seed. The demo's cameras have no stream: nothing to probe, so their
health is set here and sent through the pipeline as the monitor would.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shapely import LineString, Point, Polygon
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import SYSTEM
from dothi.cameras.health import set_health, status_message
from dothi.cameras.models import Camera, Health
from dothi.cameras.schemas import CameraIn, RecorderIn
from dothi.cameras.service import save_camera, save_recorder
from dothi.core.clock import Clock, local_date
from dothi.places.roads import Road, main_roads
from dothi.places.service import wards_under
from dothi.telemetry.messages import Incoming

NEW_CAMERAS = 150
EXISTING_CAMERAS = 250
METRES_PER_DEGREE = 111_195.0
ARM_METRES = 30.0  # how far down a road an arm's direction is taken
SAME_PLACE_METRES = 40.0  # crossings closer than this are one intersection
OFFLINE_SHARE = 0.03
CAMERAS_PRINCIPAL = replace(SYSTEM, username="simulator", provision=True)


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    boundary: Polygon


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * METRES_PER_DEGREE * math.cos(math.radians(a[1]))
    return math.hypot(dx, (b[1] - a[1]) * METRES_PER_DEGREE)


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * math.cos(math.radians(a[1]))
    return math.degrees(math.atan2(dx, b[1] - a[1])) % 360


def intersections(roads: Sequence[Road]) -> list[tuple[float, float]]:
    """Points where roads of different names cross, one per place, in a stable order."""
    lines = [(road.name or str(road.osm_way_id), LineString(road.line)) for road in roads]
    found: list[tuple[float, float]] = []
    for i, (name, line) in enumerate(lines):
        for other_name, other in lines[i + 1 :]:
            if name == other_name:
                continue
            crossing = line.intersection(other)
            for part in getattr(crossing, "geoms", [crossing]):
                point = (round(part.x, 6), round(part.y, 6)) if part.geom_type == "Point" else None
                if point and all(_metres(point, seen) > SAME_PLACE_METRES for seen in found):
                    found.append(point)
    return sorted(found)


def arms(point: tuple[float, float], roads: Sequence[Road]) -> list[float]:
    """The bearings of the roads leaving an intersection, 30° apart at least."""
    here = Point(point)
    bearings: list[float] = []
    for road in roads:
        line = LineString(road.line)
        if line.distance(here) * METRES_PER_DEGREE > 5:
            continue
        along = line.project(here)
        step = ARM_METRES / METRES_PER_DEGREE
        for target in (along - step, along + step):
            if 0 <= target <= line.length:
                ahead = line.interpolate(target)
                bearing = _bearing(point, (ahead.x, ahead.y))
                if all(abs((bearing - b + 180) % 360 - 180) >= 30 for b in bearings):
                    bearings.append(bearing)
    return bearings


def _ward_of(point: tuple[float, float], wards: Sequence[Ward]) -> Ward | None:
    return next((ward for ward in wards if ward.boundary.covers(Point(point))), None)


def plan(wards: Sequence[Ward], roads: Sequence[Road], seed: int) -> list[CameraIn]:
    """The demo's 400 cameras: traffic ones at the intersections, security ones in wards."""
    rng = random.Random(seed)
    inside = [p for p in intersections(roads) if _ward_of(p, wards)]  # not past the edge
    views = [(p, bearing) for p in inside for bearing in arms(p, roads)]
    cameras = []
    for number in range(NEW_CAMERAS):
        point, bearing = views[number % len(views)]
        turn = 0 if number < len(views) else 180  # a second round looks the other way
        ward = _ward_of(point, wards)
        cameras.append(
            CameraIn(
                code=f"PN-GT-{number + 1:03d}",
                name=f"Nút giao {number // 3 + 1}, hướng {round((bearing + turn) % 360)}°",
                lon=point[0],
                lat=point[1],
                heading=round((bearing + turn) % 360, 1),
                field_of_view=50,
                range_m=120,
                purposes=["traffic", "ai"] if number % 5 == 0 else ["traffic"],
                recorder=f"NVR-{ward.code}" if ward else None,
            )
        )
    for number in range(EXISTING_CAMERAS):
        ward = wards[number % len(wards)]
        point = _inside(ward.boundary, rng)
        cameras.append(
            CameraIn(
                code=f"PN-AN-{number + 1:03d}",
                name=f"Camera an ninh {ward.name} số {number // len(wards) + 1}",
                lon=point[0],
                lat=point[1],
                heading=round(rng.uniform(0, 359.9), 1),
                field_of_view=rng.choice((60, 90, 110)),
                range_m=rng.choice((30, 40, 50)),
                purposes=["security"],
                recorder=f"NVR-{ward.code}",
            )
        )
    return cameras


def _inside(area: Polygon, rng: random.Random) -> tuple[float, float]:
    west, south, east, north = area.bounds
    while True:
        point = (round(rng.uniform(west, east), 6), round(rng.uniform(south, north), 6))
        if area.contains(Point(point)):
            return point


def load_demo_cameras(
    session: Session, clock: Clock, zone: str, district: str, seed: int = 1
) -> list[Incoming]:
    """Store the recorders and cameras of the wards of `district` (a code) and set their
    health, unless there are cameras already; the status messages to ingest once committed."""
    if session.scalar(select(Camera.id).limit(1)) is not None:
        return []
    day = local_date(clock.now(), zone)
    wards = [
        Ward(unit.code, unit.name, shape(unit.boundary))
        for unit in wards_under(session, district, day)
        if unit.boundary
    ]
    for ward in wards:
        recorder = RecorderIn(code=f"NVR-{ward.code}", name=f"Đầu ghi {ward.name}", ward=ward.code)
        save_recorder(session, SYSTEM, recorder, clock, zone)
    for camera in plan(wards, main_roads(), seed):
        save_camera(session, SYSTEM, camera, clock, zone)
    return _health(session, clock.now(), random.Random(seed))


def _health(session: Session, now: datetime, rng: random.Random) -> list[Incoming]:
    messages = []
    for camera in session.scalars(select(Camera).order_by(Camera.code)):
        roll = rng.random()
        health = Health.OFFLINE if roll < OFFLINE_SHARE else Health.ONLINE
        if roll > 1 - OFFLINE_SHARE:
            health = Health.DEGRADED
        set_health(camera, health, now)
        message = status_message(camera.code, health, camera.lon, camera.lat)
        messages.append(Incoming("simulator", *message, now, CAMERAS_PRINCIPAL))
    return messages
