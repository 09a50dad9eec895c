"""Checks and measures of GeoJSON boundaries (WGS 84 longitude/latitude)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

AREA_TYPES = ("Polygon", "MultiPolygon")
_WGS84_A = 6378.137  # semi-major axis, km
_WGS84_E2 = 0.00669437999014  # first eccentricity squared


def _rings(geometry: Mapping[str, Any]) -> Iterator[Any]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons:
        yield from polygon


def check_boundary(geometry: Mapping[str, Any]) -> BaseGeometry:
    """Parse a boundary; ValueError says why it is not a valid lon/lat (multi)polygon."""
    kind = geometry.get("type")
    if kind not in AREA_TYPES:
        raise ValueError(f"a boundary must be a Polygon or MultiPolygon, not {kind!r}")
    try:
        parsed = shape(geometry)
        # Shapely closes open rings silently; GeoJSON (and PostGIS) require them closed.
        if any(list(ring[0]) != list(ring[-1]) for ring in _rings(geometry)):
            raise ValueError("a ring does not end where it starts")
    except (KeyError, TypeError, ValueError, IndexError, shapely.errors.ShapelyError) as exc:
        raise ValueError(f"malformed {kind} coordinates: {exc}") from exc
    if parsed.is_empty:
        raise ValueError(f"the {kind} is empty")
    west, south, east, north = parsed.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError("coordinates must be longitude, latitude in degrees (WGS 84)")
    if not parsed.is_valid:
        raise ValueError(f"the {kind} is not valid: {shapely.is_valid_reason(parsed)}")
    return parsed


def area_km2(geometry: BaseGeometry) -> float:
    """Area on the WGS 84 ellipsoid, for units small enough to use one latitude's scale."""
    if geometry.is_empty:
        return 0.0
    sin2 = math.sin(math.radians(geometry.centroid.y)) ** 2
    across = _WGS84_A / math.sqrt(1 - _WGS84_E2 * sin2)  # prime vertical radius
    along = across * (1 - _WGS84_E2) / (1 - _WGS84_E2 * sin2)  # meridional radius
    per_degree2 = math.radians(1) ** 2 * across * along
    return float(geometry.area * per_degree2 * math.cos(math.radians(geometry.centroid.y)))
