"""Who handles a report: (place, category) -> organisational unit, like FixMyStreet's bodies.

The most specific rule wins: a rule for the report's ward, then for the units above it,
then the category's rule for anywhere. Without a rule the report goes to the unit of the
category's kind (ward committee, police…) working in the ward, or above it. No match
leaves the report unrouted for the IOC to dispatch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.models import OrgUnit
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Code
from dothi.errors import InvalidInput, NotFound
from dothi.places.service import unit_ids_by_code, unit_paths
from dothi.reports.catalogue import category_by_code, read_document
from dothi.reports.models import Category, Route


class RouteEntry(BaseModel):
    """A rule of a routing file: category code, org unit code, optional place code."""

    model_config = ConfigDict(extra="forbid")

    category: Code
    org_unit: Code
    place: Code | None = None


class _Routes(BaseModel):
    model_config = ConfigDict(extra="ignore")

    routes: list[RouteEntry]


@dataclass(frozen=True, slots=True)
class Target:
    """The organisational unit a report is routed to."""

    id: uuid.UUID
    name: str


def _upwards(path: str | None) -> list[uuid.UUID]:
    """The unit of a materialized path and the units above it, deepest first."""
    return [uuid.UUID(part) for part in reversed((path or "").strip("/").split("/")) if part]


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Routing rules by (category, place or None: anywhere), and active organisational units
    by (kind, place): all of them, or the part one report needs."""

    rules: Mapping[tuple[uuid.UUID, uuid.UUID | None], Target]
    local: Mapping[tuple[str, uuid.UUID], Target]

    def target(self, category_id: uuid.UUID, unit_kind: str, path: str | None) -> Target | None:
        """The unit for a report of the category placed at `path` (see the module)."""
        places = _upwards(path)
        for place in [*places, None]:
            if (category_id, place) in self.rules:
                return self.rules[category_id, place]
        return next(
            (self.local[unit_kind, p] for p in places if (unit_kind, p) in self.local), None
        )


def routing_table(
    session: Session, category: Category | None = None, places: Collection[uuid.UUID] = ()
) -> RoutingTable:
    """The rules and local units of every category and place, or of `category` in `places`."""
    rules = (
        select(Route.category_id, Route.admin_unit_id, OrgUnit.id, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Route.org_unit_id)
        .where(OrgUnit.active)
    )
    local = (
        select(OrgUnit.kind, OrgUnit.admin_unit_id, OrgUnit.id, OrgUnit.name)
        .where(OrgUnit.active, OrgUnit.admin_unit_id.is_not(None))
        .order_by(OrgUnit.code.desc())  # several of a kind in one place: the first code wins
    )
    if category is not None:
        rules = rules.where(Route.category_id == category.id)
        local = local.where(OrgUnit.kind == category.unit_kind, OrgUnit.admin_unit_id.in_(places))
    return RoutingTable(
        {(cat, place): Target(unit, name) for cat, place, unit, name in session.execute(rules)},
        {(kind, place): Target(unit, name) for kind, place, unit, name in session.execute(local)},
    )


def route(
    session: Session,
    category: Category,
    admin_unit_id: uuid.UUID | None,
    path: str | None = None,
) -> Target | None:
    """The organisational unit for a report of `category` placed in `admin_unit_id`
    (whose materialized `path` saves a query when the caller knows it)."""
    if admin_unit_id is not None and path is None:
        path = unit_paths(session, [admin_unit_id]).get(admin_unit_id)
    table = routing_table(session, category, _upwards(path))
    return table.target(category.id, category.unit_kind, path)


def set_route(
    session: Session,
    actor: Principal,
    category_code: str,
    org_unit_id: uuid.UUID,
    admin_unit_id: uuid.UUID | None = None,
) -> None:
    """Send reports of a category (in a place, or anywhere) to a unit (`reports:manage`)."""
    actor.require("reports:manage")
    category = category_by_code(session, category_code)
    if session.get(OrgUnit, org_unit_id) is None:
        raise InvalidInput("No such organisational unit.")
    if admin_unit_id is not None and not unit_paths(session, [admin_unit_id]):
        raise InvalidInput("No such administrative unit.")
    found = session.scalar(
        select(Route).where(Route.category_id == category.id, Route.admin_unit_id == admin_unit_id)
        if admin_unit_id is not None
        else select(Route).where(Route.category_id == category.id, Route.admin_unit_id.is_(None))
    )
    if found is None:
        session.add(
            Route(category_id=category.id, admin_unit_id=admin_unit_id, org_unit_id=org_unit_id)
        )
    else:
        found.org_unit_id = org_unit_id
    session.flush()


def load_routes(
    session: Session, actor: Principal, day: date, source: Mapping[str, Any] | None = None
) -> int:
    """Create or update the rules of a routing document (default: the demo district's)."""
    entries = read_document(_Routes, source, "phu-nhuan-routes", "routes").routes
    codes = {entry.org_unit for entry in entries}
    units = dict(
        session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(codes))).all()
    )
    places = unit_ids_by_code(session, {e.place for e in entries if e.place}, day)
    missing = sorted(codes - units.keys()) + sorted(
        {e.place for e in entries if e.place} - places.keys()
    )
    if missing:
        raise InvalidInput(f"routes: unknown organisational or administrative units: {missing}")
    for entry in entries:
        place = places[entry.place] if entry.place else None
        set_route(session, actor, entry.category, units[entry.org_unit], place)
    return len(entries)


def org_unit_names(session: Session, ids: Collection[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The name of each organisational unit among `ids`."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(wanted))
    return dict(session.execute(query).all())


def active_org_unit(session: Session, org_unit_id: uuid.UUID) -> uuid.UUID:
    """The id of an active organisational unit; NotFound otherwise."""
    active = session.scalar(select(OrgUnit.active).where(OrgUnit.id == org_unit_id))
    if not active:
        raise NotFound("No such active organisational unit.")
    return org_unit_id


def transfer_targets(session: Session, actor: Principal) -> list[Target]:
    """The active organisational units an officer (`reports:handle`) may hand a report to,
    by name."""
    actor.require("reports:handle")
    query = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.active).order_by(OrgUnit.name)
    return [Target(unit_id, name) for unit_id, name in session.execute(query)]
