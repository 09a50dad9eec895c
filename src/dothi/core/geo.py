"""Point -> area lookup over GeoJSON boundaries with validity periods (Shapely STRtree), and
distances on the Earth."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import shapely
from shapely import STRtree
from shapely.geometry import shape

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Area(Generic[Key]):
    """One boundary: its key, GeoJSON geometry, depth in its tree and validity (end exclusive)."""

    key: Key
    geometry: Mapping[str, Any]
    depth: int
    valid_from: date
    valid_to: date | None = None

    def valid_at(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class AreaIndex(Generic[Key]):
    """Finds the deepest area that covers a point on a given day.

    Built once from the boundaries (a few hundred wards for a province) and then
    read by many threads: STRtree queries are thread-safe.
    """

    def __init__(self, areas: Iterable[Area[Key]]) -> None:
        self._areas = [area for area in areas if area.geometry]
        self._geometries = [shape(area.geometry) for area in self._areas]
        shapely.prepare(self._geometries)
        self._tree = STRtree(self._geometries)

    def __len__(self) -> int:
        return len(self._areas)

    def covering(self, lon: float, lat: float, day: date) -> list[Area[Key]]:
        """Every area valid on `day` that covers the point, deepest first."""
        point = shapely.Point(lon, lat)
        # Bounding-box candidates, then an exact test on the prepared geometry (faster
        # than a predicate query, which does not use the preparation).
        found = [
            self._areas[i]
            for i in self._tree.query(point).tolist()
            if self._areas[i].valid_at(day) and self._geometries[i].covers(point)
        ]
        return sorted(found, key=lambda area: -area.depth)

    def locate(self, lon: float, lat: float, day: date) -> Key | None:
        """The key of the deepest area covering the point on `day`, or None outside all."""
        found = self.covering(lon, lat, day)
        return found[0].key if found else None


EARTH_RADIUS_M = 6_371_000


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
