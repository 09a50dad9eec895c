"""Where an entity is: its point from a GeoJSON location, and the ward that covers it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from dothi.errors import InvalidInput
from dothi.places.lookup import locate
from dothi.places.service import unit_paths
from dothi.telemetry.models import Entity


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
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("location: longitude or latitude out of range.")
    return lon, lat


def place(session: Session, entity: Entity, location: Any, day: date) -> None:
    """Set the entity's point and ward from a location attribute (None: unplaced)."""
    point = point_of(location) if location is not None else None
    entity.lon, entity.lat = point if point else (None, None)
    unit = locate(session, *point, day) if point else None
    entity.admin_unit_id = unit.id if unit is not None else None


def ward_paths(session: Session, entities: list[Entity]) -> dict[uuid.UUID, str]:
    """The tree path of every ward these entities are in, for scope checks."""
    return unit_paths(session, {e.admin_unit_id for e in entities if e.admin_unit_id is not None})


def entity_path(session: Session, entity: Entity) -> str | None:
    """The tree path of the entity's ward (None: unplaced)."""
    return ward_paths(session, [entity]).get(entity.admin_unit_id) if entity.admin_unit_id else None
