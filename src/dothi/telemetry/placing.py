"""Where an entity is: its point from a GeoJSON location, and the ward that covers it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from dothi.errors import InvalidInput
from dothi.places.lookup import locate
from dothi.places.service import unit_paths
from dothi.telemetry.models import Entity

LARGEST_COORDINATE = 360  # checked before float(): a 400-digit integer would overflow


def point_of(location: Any) -> tuple[float, float] | None:
    """(lon, lat) of a location given as a GeoJSON Point (bare or as a GeoProperty value).

    Other geometries are kept as they are but give no point; a malformed Point is refused.
    """
    geometry = location.get("value", location) if isinstance(location, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if not (
        isinstance(coordinates, list | tuple)
        and len(coordinates) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
    ):
        raise InvalidInput("location: a Point needs [longitude, latitude] numbers.")
    if not all(abs(c) <= LARGEST_COORDINATE for c in coordinates):
        raise InvalidInput("location: longitude or latitude out of range.")
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("location: longitude or latitude out of range.")
    return lon, lat


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a location puts an entity: its point, its ward and the ward's tree path."""

    lon: float | None = None
    lat: float | None = None
    admin_unit_id: uuid.UUID | None = None
    path: str | None = None


def placement_of(session: Session, location: Any, day: date) -> Placement:
    """The placement a location attribute gives (an empty one when it is not a point)."""
    point = point_of(location) if location is not None else None
    if point is None:
        return Placement()
    unit = locate(session, *point, day)
    return Placement(*point, unit.id if unit else None, unit.path if unit else None)


def place(entity: Entity, placement: Placement) -> None:
    """Put the entity where `placement` says."""
    entity.lon, entity.lat, entity.admin_unit_id = (
        placement.lon,
        placement.lat,
        placement.admin_unit_id,
    )


def entity_path(session: Session, entity: Entity) -> str | None:
    """The tree path of the entity's ward (None: unplaced)."""
    unit = entity.admin_unit_id
    return unit_paths(session, {unit}).get(unit) if unit is not None else None
