"""What placing a new report reads, kept in memory per database: the active categories,
the routing table, the place index and the path of the root unit served.

Reading them took four queries per report, 40 % of an Open311 POST. The copy is built
again at the first use after a commit of this process changed categories, routing rules
or organisational units (`changes`), on a new day, and at the latest `TTL_SECONDS` after
it was built: a change made by another process (another server process, the CLI, which
is where administrative units are imported) may go unseen for that long.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from dothi.accounts.models import OrgUnit
from dothi.places.lookup import PlaceIndex, place_index
from dothi.places.service import unit_ids_by_code, unit_paths
from dothi.reports.changes import ChangeWatch
from dothi.reports.models import Category, Route
from dothi.reports.routing import RoutingTable, routing_table

TTL_SECONDS = 10.0

_watch = ChangeWatch(Category, Route, OrgUnit)


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """What placing needs of an active category: a copy, no session behind it."""

    id: uuid.UUID
    code: str
    name: str
    public: bool
    unit_kind: str
    urgent_hours: float
    normal_hours: float
    attributes: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class PlacingData:
    """Active categories by code, the routing table, the place index, and the path of
    the root unit served (`root_unit`, a code; None: every tree) on `day`."""

    root_unit: str | None
    day: date
    root_path: str
    categories: Mapping[str, CategoryInfo]
    routing: RoutingTable
    places: PlaceIndex


def _categories(session: Session) -> dict[str, CategoryInfo]:
    query = select(Category).where(Category.active)
    return {
        c.code: CategoryInfo(
            c.id,
            c.code,
            c.name,
            c.public,
            c.unit_kind,
            c.urgent_hours,
            c.normal_hours,
            tuple(c.attributes),
        )
        for c in session.scalars(query)
    }


def _root_path(session: Session, code: str | None, day: date) -> str:
    """The path of the unit carrying `code` on `day`; "/" (everywhere) for none."""
    root = unit_ids_by_code(session, [code], day).get(code) if code is not None else None
    return unit_paths(session, [root]).get(root, "/") if root is not None else "/"


def _load(session: Session, root_unit: str | None, day: date) -> PlacingData:
    return PlacingData(
        root_unit,
        day,
        _root_path(session, root_unit, day),
        _categories(session),
        routing_table(session),
        place_index(session),
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: int
    expires: float
    data: PlacingData

    def fresh(self, root_unit: str | None, day: date) -> bool:
        return (
            self.generation == _watch.generation
            and time.monotonic() < self.expires
            and (self.data.root_unit, self.data.day) == (root_unit, day)
        )


class _Cache:
    """One copy per connection pool (one per database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one thread builds, the others wait for its copy
        self._entries: weakref.WeakKeyDictionary[Pool, _Entry] = weakref.WeakKeyDictionary()

    def fresh(self, pool: Pool, root_unit: str | None, day: date) -> PlacingData | None:
        entry = self._entries.get(pool)
        return entry.data if entry is not None and entry.fresh(root_unit, day) else None

    def get(self, session: Session, root_unit: str | None, day: date) -> PlacingData:
        if _watch.pending(session):  # its own changes, not committed: not for the others
            return _load(session, root_unit, day)
        pool = session.get_bind().engine.pool
        found = self.fresh(pool, root_unit, day)
        if found is not None:
            return found
        with self._lock:
            found = self.fresh(pool, root_unit, day)
            if found is None:
                generation = _watch.seen(session)
                found = _load(session, root_unit, day)
                self._entries[pool] = _Entry(generation, time.monotonic() + TTL_SECONDS, found)
            return found


_cache = _Cache()


def placing_data(session: Session, root_unit: str | None, day: date) -> PlacingData:
    """What placing reads in the session's database, at most `TTL_SECONDS` old and
    never older than this process's last committed change of it."""
    return _cache.get(session, root_unit, day)


def fresh_placing_data(engine: Engine, root_unit: str | None, day: date) -> PlacingData | None:
    """The same if a fresh copy is in memory; None when the database must be read."""
    return _cache.fresh(engine.pool, root_unit, day)
