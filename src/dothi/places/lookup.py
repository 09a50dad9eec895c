"""Point -> administrative unit at a date, and counts of points per unit.

The STRtree index is built from the database once and shared by the sessions of an
engine. Each use checks a fingerprint of the table (row count, latest change), so an
import, in this process or another, makes the next lookup rebuild it.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from dothi.core.geo import Area, AreaIndex
from dothi.places.models import AdminUnit
from dothi.places.service import ancestors, get_unit, valid_on

Point = tuple[float, float]
"""Longitude, latitude (WGS 84)."""


@dataclass(frozen=True, slots=True)
class UnitRef:
    """What the index knows of a unit besides its boundary."""

    id: uuid.UUID
    path: str
    level: str


class PlaceIndex:
    """Every stored boundary, all periods, in one STRtree."""

    def __init__(self, units: Iterable[AdminUnit]) -> None:
        self._areas = AreaIndex(
            Area(
                key=UnitRef(unit.id, unit.path, unit.level),
                geometry=unit.boundary,
                depth=unit.depth,
                valid_from=unit.valid_from,
                valid_to=unit.valid_to,
            )
            for unit in units
            if unit.boundary
        )

    def __len__(self) -> int:
        return len(self._areas)

    def covering(self, point: Point, day: date, root_path: str = "/") -> list[UnitRef]:
        """The units under `root_path` that cover the point on `day`, deepest first."""
        found = self._areas.covering(point[0], point[1], day)
        return [area.key for area in found if area.key.path.startswith(root_path)]

    def locate(self, point: Point, day: date, root_path: str = "/") -> UnitRef | None:
        """The deepest unit under `root_path` covering the point on `day`, or None."""
        found = self.covering(point, day, root_path)
        return found[0] if found else None


Fingerprint = tuple[Any, ...]


class _IndexCache:
    """One index per connection pool (one per database), rebuilt when its table changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: weakref.WeakKeyDictionary[Pool, tuple[Fingerprint, PlaceIndex]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, session: Session) -> PlaceIndex:
        pool = session.get_bind().engine.pool
        count, latest = session.execute(select(func.count(), func.max(AdminUnit.changed_at))).one()
        fingerprint: Fingerprint = (count, latest)
        with self._lock:
            cached = self._entries.get(pool)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            index = PlaceIndex(session.scalars(select(AdminUnit)))
            self._entries[pool] = (fingerprint, index)
            return index


_cache = _IndexCache()


def place_index(session: Session) -> PlaceIndex:
    """The lookup index of the session's database, as of what the session sees."""
    return _cache.get(session)


def _root_path(session: Session, root: uuid.UUID | None) -> str:
    return "/" if root is None else get_unit(session, root).path


def locate(
    session: Session, lon: float, lat: float, day: date, *, root: uuid.UUID | None = None
) -> AdminUnit | None:
    """The deepest unit (of the tree under `root`, if given) covering the point on `day`."""
    found = place_index(session).locate((lon, lat), day, _root_path(session, root))
    return None if found is None else get_unit(session, found.id)


def locate_chain(
    session: Session, lon: float, lat: float, day: date, *, root: uuid.UUID | None = None
) -> list[AdminUnit]:
    """The unit covering the point and its ancestors, deepest first; empty outside."""
    unit = locate(session, lon, lat, day, root=root)
    return [] if unit is None else ancestors(session, unit)


def count_by_unit(
    session: Session, points: Iterable[Point], *, level: str, root: uuid.UUID, day: date
) -> dict[uuid.UUID, int]:
    """How many points fall in each unit of `level` under `root` on `day`.

    Every such unit that has a boundary is in the answer, with 0 when no point fell in it;
    points outside them all are not counted.
    """
    index = place_index(session)
    root_path = _root_path(session, root)
    units = select(AdminUnit.id).where(
        AdminUnit.level == level,
        AdminUnit.path.startswith(root_path),
        AdminUnit.boundary.is_not(None),
        valid_on(day),
    )
    counts = dict.fromkeys(session.scalars(units), 0)
    for point in points:
        ref = next(
            (ref for ref in index.covering(point, day, root_path) if ref.level == level), None
        )
        if ref is not None:
            counts[ref.id] = counts.get(ref.id, 0) + 1
    return counts
