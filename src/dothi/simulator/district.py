"""The demo district's sensors: which, where, how often; deterministic from a seed.

Stations go inside their ward; streetlights, traffic counters, flood hotspots and
wastewater stations along the district's real main roads (OpenStreetMap, see
`data/LICENSE-DATA`). Entity ids name the place, not the draw
(`urn:ngsi-ld:AirQualityObserved:pn-aq-27058` is Phường 1's station), so they are
the same in every run.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from sqlalchemy.orm import Session

from dothi.places.roads import main_roads
from dothi.places.service import list_units
from dothi.simulator.signals import uniform

LAYOUT = 0x4C41594F  # the layout's stream of noise
PREFIX = "pn"  # local ids of the demo district: pn-aq-…, pn-sl-…
LIGHTS, COUNTERS, CONTAINERS_PER_WARD = 200, 20, 4
FLOOD_ROADS = (
    # Streets of Phú Nhuận the city's flood reports name most often.
    "Nguyễn Kiệm",
    "Phan Đăng Lưu",
    "Huỳnh Văn Bánh",
    "Lê Văn Sỹ",
    "Trần Huy Liệu",
    "Phan Xích Long",
    "Hoàng Văn Thụ",
    "Nguyễn Trọng Tuyển",
    "Phan Đình Phùng",
    "Hồ Văn Huê",
)
CANAL_ROAD = "Trường Sa"  # along the Nhiêu Lộc – Thị Nghè canal, where the sewers let out
WASTEWATER = 3
CLEARANCE = 0.00001  # degrees, about 1 m: a sensor is clearly inside its ward
KERB = ((0.0, 0.0), (0.00005, 0.0), (-0.00005, 0.0), (0.0, 0.00005), (0.0, -0.00005))
"""Offsets (degrees, ~5 m) tried when a point on a road is not clearly inside a ward."""
PERIODS = {  # minutes between two reports of a sensor of each type
    "AirQualityObserved": 5,
    "FloodMonitoring": 5,
    "TrafficFlowObserved": 5,
    "Streetlight": 15,
    "WaterQualityObserved": 15,
    "WasteContainer": 30,
}
ROAD_WEIGHT = {"primary": 1.3, "secondary": 1.1, "tertiary": 0.9}
"""How busy a road class is, relative to the district's average (links count as their road)."""


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    boundary: Polygon


@dataclass(frozen=True, slots=True)
class Road:
    name: str | None
    highway: str
    line: LineString

    @property
    def weight(self) -> float:
        return ROAD_WEIGHT.get(self.highway.removesuffix("_link"), 0.9)


@dataclass(frozen=True, slots=True)
class Sensor:
    """One simulated device: its entity, place and reporting rhythm."""

    entity_id: str
    type: str
    name: str
    lon: float
    lat: float
    ward: str  # code of the ward it stands in
    busy: float  # how much traffic it sees, ~0.7 (a quiet street) to 1.3 (a primary road)
    period: int  # minutes between reports
    phase: int  # the minute within the period at which it reports
    second: int  # the second within that minute

    @property
    def key(self) -> int:
        """A number that keys this sensor's noise: the same for the same id in every run."""
        return zlib.crc32(self.entity_id.encode())


@dataclass(frozen=True, slots=True)
class Layout:
    sensors: tuple[Sensor, ...]

    def of_type(self, entity_type: str) -> list[Sensor]:
        return [s for s in self.sensors if s.type == entity_type]


def load_roads() -> list[Road]:
    """The district's main roads, bundled with the places (OpenStreetMap, ODbL), by way id."""
    return [Road(road.name, road.highway, LineString(road.line)) for road in main_roads()]


def load_wards(session: Session, district: str, day: date) -> list[Ward]:
    """The wards of a district (by code) with their boundaries, by code."""
    units = list_units(session, level="ward", parent=district, at=day, limit=1000)
    return sorted(
        (Ward(u.code, u.name, shape(u.boundary)) for u in units if u.boundary is not None),
        key=lambda ward: ward.code,
    )


def build_layout(wards: Sequence[Ward], roads: Sequence[Road], seed: int) -> Layout:
    """Every sensor of the district."""
    placer = _Placer(wards, seed)
    sensors = [
        *_stations(placer, roads),
        *_lights(placer, roads),
        *_counters(placer, roads),
        *_flood_sensors(placer, roads),
        *_containers(placer, roads),
        *_wastewater(placer, roads),
    ]
    return Layout(tuple(sensors))


class _Placer:
    """Finds the ward of a point and makes sensors with their reporting rhythm."""

    def __init__(self, wards: Sequence[Ward], seed: int) -> None:
        self.wards = list(wards)
        self.seed = seed
        shapely.prepare([w.boundary for w in self.wards])

    def inside(self, point: Point) -> Ward | None:
        """The ward a point is clearly inside (not on its boundary), if any."""
        return next(
            (
                w
                for w in self.wards
                if w.boundary.contains(point) and w.boundary.boundary.distance(point) > CLEARANCE
            ),
            None,
        )

    def settle(self, point: Point) -> tuple[Point, Ward] | None:
        """The point, or one at the kerb a few metres off, clearly inside a ward.

        Many roads are ward boundaries: a device on one stands on one side of it.
        """
        for dx, dy in KERB:
            moved = _rounded(Point(point.x + dx, point.y + dy))
            ward = self.inside(moved)
            if ward is not None:
                return moved, ward
        return None

    def draw(self, *keys: int) -> float:
        return uniform(self.seed, LAYOUT, *keys)

    def sensor(
        self, kind: str, local: str, name: str, point: Point, ward: Ward, busy: float
    ) -> Sensor:
        entity_id = f"urn:ngsi-ld:{kind}:{PREFIX}-{local}"
        key = zlib.crc32(entity_id.encode())
        period = PERIODS[kind]
        return Sensor(
            entity_id=entity_id,
            type=kind,
            name=name,
            lon=point.x,
            lat=point.y,
            ward=ward.code,
            busy=busy,
            period=period,
            phase=int(self.draw(key, 1) * period),
            second=int(self.draw(key, 2) * 60),
        )


def _rounded(point: Point) -> Point:
    """The point as stored and sent: 6 decimals, about 0.1 m."""
    return Point(round(point.x, 6), round(point.y, 6))


def _along(roads: Sequence[Road], count: int, start: float) -> Iterator[tuple[Road, Point]]:
    """`count` points evenly spaced along the roads, the first `start` (0–1) of a step in."""
    total = sum(road.line.length for road in roads)
    step = total / count
    position = start * step
    passed = 0.0
    for road in roads:
        while position < passed + road.line.length:
            yield road, road.line.interpolate(position - passed)
            position += step
        passed += road.line.length


def _placed(
    placer: _Placer, roads: Sequence[Road], count: int, start: float
) -> list[tuple[Road, Point, Ward]]:
    """`count` points spread along the roads, each inside a ward.

    The roads run 25 m past the district: the spacing tightens until enough points
    fall inside.
    """
    for spots in range(count, 2 * count + 1):
        found = []
        for road, point in _along(roads, spots, start):
            settled = placer.settle(point)
            if settled is not None:
                found.append((road, *settled))
        if len(found) >= count:
            return found[:count]
    raise ValueError("too few points of these roads lie inside the wards")


def _stations(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    """One air-quality station per ward, by a road of the ward where it has one."""
    for number, ward in enumerate(placer.wards):
        point, busy = _in_ward(placer, ward, roads, number)
        yield placer.sensor(
            "AirQualityObserved",
            f"aq-{ward.code}",
            f"Trạm quan trắc không khí {ward.name}",
            point,
            ward,
            busy,
        )


def _in_ward(placer: _Placer, ward: Ward, roads: Sequence[Road], *keys: int) -> tuple[Point, float]:
    """A point on a main road inside the ward (and its road's weight), else inside the ward."""
    inner = ward.boundary.buffer(-0.0002)  # ~20 m in from the boundary
    pieces = [
        (piece, road.weight)
        for road in roads
        for piece in _lines(road.line.intersection(inner))
        if piece.length > 0.0005
    ]
    if pieces:
        piece, weight = pieces[int(placer.draw(*keys, 3) * len(pieces))]
        return _rounded(piece.interpolate(placer.draw(*keys, 4), normalized=True)), weight
    return _rounded(ward.boundary.representative_point()), 0.7


def _lines(geometry: Any) -> list[LineString]:
    if isinstance(geometry, LineString):
        return [geometry]
    return [g for g in getattr(geometry, "geoms", ()) if isinstance(g, LineString)]


def _lights(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    spots = _placed(placer, roads, LIGHTS, placer.draw(10))
    for number, (road, point, ward) in enumerate(spots, 1):
        street = road.name or "đường nhánh"
        yield placer.sensor(
            "Streetlight", f"sl-{number:03d}", f"Đèn {street} #{number}", point, ward, road.weight
        )


def _counters(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    arteries = [r for r in roads if r.highway in ("primary", "secondary") and r.name]
    spots = _placed(placer, arteries, COUNTERS, placer.draw(11))
    for number, (road, point, ward) in enumerate(spots, 1):
        yield placer.sensor(
            "TrafficFlowObserved",
            f"tc-{number:02d}",
            f"Đếm xe {road.name}",
            point,
            ward,
            road.weight,
        )


def _longest(roads: Sequence[Road], name: str) -> Road | None:
    named = [road for road in roads if road.name == name]
    return max(named, key=lambda road: road.line.length) if named else None


def _flood_sensors(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    for number, street in enumerate(FLOOD_ROADS, 1):
        road = _longest(roads, street)
        if road is None:
            continue
        for attempt in range(20):
            settled = placer.settle(
                road.line.interpolate(placer.draw(12, number, attempt), normalized=True)
            )
            if settled is not None:
                point, ward = settled
                yield placer.sensor(
                    "FloodMonitoring",
                    f"fl-{number:02d}",
                    f"Điểm ngập {street}",
                    point,
                    ward,
                    road.weight,
                )
                break


def _containers(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    for ward_number, ward in enumerate(placer.wards):
        for number in range(1, CONTAINERS_PER_WARD + 1):
            point, busy = _in_ward(placer, ward, roads, 100 + ward_number, number)
            yield placer.sensor(
                "WasteContainer",
                f"wc-{ward.code}-{number}",
                f"Thùng rác {ward.name} #{number}",
                point,
                ward,
                busy,
            )


def _wastewater(placer: _Placer, roads: Sequence[Road]) -> Iterator[Sensor]:
    canal = [road for road in roads if road.name == CANAL_ROAD]
    spots = _placed(placer, canal, WASTEWATER, 0.5)
    for number, (_road, point, ward) in enumerate(spots, 1):
        yield placer.sensor(
            "WaterQualityObserved",
            f"wq-{number:02d}",
            f"Cửa xả nước thải kênh Nhiêu Lộc – Thị Nghè #{number}",
            point,
            ward,
            1.0,
        )
