"""Administrative units: create, update, find and walk the tree. Takes a Session, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, false, func, literal, or_, select, update
from sqlalchemy.orm import Session

from dothi.core.ids import new_id
from dothi.core.text import fold
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.models import AdminUnit
from dothi.places.schemas import UnitIn

MAX_PAGE = 1000
MAX_OFFSET = 10**9


def valid_on(day: date) -> ColumnElement[bool]:
    """SQL condition: the unit exists on `day` (valid_to is exclusive)."""
    return (AdminUnit.valid_from <= day) & or_(
        AdminUnit.valid_to.is_(None), AdminUnit.valid_to > day
    )


def _ordered(query: Select[AdminUnit]) -> Select[AdminUnit]:
    # Every id in a path has the same length, so a shorter path is a shallower unit.
    return query.order_by(func.length(AdminUnit.path), AdminUnit.code, AdminUnit.valid_from)


def get_unit(session: Session, unit_id: uuid.UUID) -> AdminUnit:
    """The unit with this id; NotFound otherwise."""
    unit = session.get(AdminUnit, unit_id)
    if unit is None:
        raise NotFound(f"no administrative unit {unit_id}")
    return unit


def find_unit(session: Session, code: str, valid_from: date) -> AdminUnit | None:
    """The unit keyed (code, valid_from), if stored."""
    query = select(AdminUnit).where(AdminUnit.code == code, AdminUnit.valid_from == valid_from)
    return session.scalars(query).one_or_none()


def units_with_code(session: Session, code: str, day: date) -> list[AdminUnit]:
    """The units carrying `code` on `day`, newest period first (codes are reused)."""
    query = select(AdminUnit).where(AdminUnit.code == code, valid_on(day))
    return list(session.scalars(query.order_by(AdminUnit.valid_from.desc())))


def _place(session: Session, unit: AdminUnit, data: UnitIn) -> None:
    """Set the parent (by code, on `valid_from`) and the path of `unit`.

    The descendants of a unit that moves move along. When periods of the parent code
    overlap (a demo tree kept current next to the real one), the newest period wins.
    """
    parent = None
    if data.parent is not None:
        try:
            parent = unit_by_id_or_code(session, data.parent, data.valid_from)
        except NotFound as exc:
            raise InvalidInput(f"parent: {exc.message}") from exc
    if parent is not None and unit.path and parent.path.startswith(unit.path):
        raise InvalidInput(f"unit {data.code} cannot be placed under its own descendant")
    path = f"{parent.path if parent else '/'}{unit.id}/"
    if unit.path and unit.path != path:
        moved = literal(path).concat(func.substr(AdminUnit.path, len(unit.path) + 1))
        session.execute(
            update(AdminUnit)
            .where(AdminUnit.path.startswith(unit.path), AdminUnit.id != unit.id)
            .values(path=moved),
            execution_options={"synchronize_session": "fetch"},
        )
    unit.parent_id = parent.id if parent else None
    unit.path = path


def _fill(unit: AdminUnit, data: UnitIn) -> None:
    unit.code = data.code
    unit.name = data.name
    unit.name_en = data.name_en
    unit.level = data.level
    unit.boundary = data.boundary
    unit.population = data.population
    unit.population_estimated = data.population_estimated
    unit.area_km2 = data.area_km2
    unit.valid_from = data.valid_from
    unit.valid_to = data.valid_to
    unit.attributes = data.attributes


def create_unit(session: Session, data: UnitIn) -> AdminUnit:
    """Add a unit under the parent its code names; Conflict if (code, valid_from) exists."""
    if find_unit(session, data.code, data.valid_from) is not None:
        raise Conflict(
            f"an administrative unit {data.code} valid from {data.valid_from.isoformat()} "
            "already exists"
        )
    unit = AdminUnit(id=new_id(), path="")
    _place(session, unit, data)
    _fill(unit, data)
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, unit: AdminUnit, data: UnitIn) -> AdminUnit:
    """Replace what is known about `unit` (same id, so rows that refer to it stay valid)."""
    if (data.code, data.valid_from) != (unit.code, unit.valid_from) and find_unit(
        session, data.code, data.valid_from
    ):
        raise Conflict(f"another unit is keyed {data.code} from {data.valid_from.isoformat()}")
    _place(session, unit, data)
    _fill(unit, data)
    session.flush()
    return unit


def list_units(
    session: Session,
    *,
    level: str | None = None,
    parent: uuid.UUID | str | None = None,
    at: date | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AdminUnit]:
    """Units, shallowest first, filtered by level, parent (id or code), date and name.

    `at` keeps the units that exist on that day (a parent code is resolved on it too);
    `q` matches names regardless of case and diacritics ("phuong 7" finds "Phường 7").
    """
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE} and offset 0 to {MAX_OFFSET}")
    query = select(AdminUnit)
    if level is not None:
        query = query.where(AdminUnit.level == level)
    if isinstance(parent, uuid.UUID):
        query = query.where(AdminUnit.parent_id == parent)
    elif parent is not None:
        parents = select(AdminUnit.id).where(AdminUnit.code == parent)
        if at is not None:
            parents = parents.where(valid_on(at))
        query = query.where(AdminUnit.parent_id.in_(parents))
    if at is not None:
        query = query.where(valid_on(at))
    if q:
        query = query.where(AdminUnit.search_name.contains(fold(q), autoescape=True))
    return list(session.scalars(_ordered(query).limit(limit).offset(offset)))


def children(session: Session, unit_id: uuid.UUID, *, at: date | None = None) -> list[AdminUnit]:
    """The direct children of a unit (those existing on `at`, if given)."""
    get_unit(session, unit_id)
    query = select(AdminUnit).where(AdminUnit.parent_id == unit_id)
    if at is not None:
        query = query.where(valid_on(at))
    return list(session.scalars(_ordered(query)))


def subtree(session: Session, unit_id: uuid.UUID, *, at: date | None = None) -> list[AdminUnit]:
    """The unit and all its descendants, shallowest first."""
    root = get_unit(session, unit_id)
    query = select(AdminUnit).where(AdminUnit.path.startswith(root.path))
    if at is not None:
        query = query.where(valid_on(at))
    return list(session.scalars(_ordered(query)))


def ancestors(session: Session, unit: AdminUnit) -> list[AdminUnit]:
    """The unit and the units above it, deepest first (ward, district, city)."""
    query = select(AdminUnit).where(AdminUnit.id.in_(unit.ancestor_ids))
    return sorted(session.scalars(query), key=lambda found: -found.depth)


def unit_by_id_or_code(session: Session, key: uuid.UUID | str, day: date) -> AdminUnit:
    """A unit by id, or by code on `day` (the newest period if several overlap); NotFound."""
    if isinstance(key, uuid.UUID):
        return get_unit(session, key)
    found = units_with_code(session, key, day)
    if not found:
        raise NotFound(f"no administrative unit with code {key} on {day.isoformat()}")
    return found[0]


def unit_paths(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The path of each existing unit among `ids`."""
    if not ids:
        return {}
    rows = session.execute(select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(ids)))
    return {row.id: row.path for row in rows}


def units_within(paths: Sequence[str]) -> Select[uuid.UUID]:
    """A subquery of the ids of every unit inside one of the subtrees `paths`."""
    inside = or_(*(AdminUnit.path.startswith(path) for path in paths)) if paths else false()
    return select(AdminUnit.id).where(inside)


def unit_ids_by_code(session: Session, codes: Collection[str], day: date) -> dict[str, uuid.UUID]:
    """The unit carrying each code on `day` (codes are reused: the period valid then)."""
    found = {code: units_with_code(session, code, day) for code in codes}
    return {code: units[0].id for code, units in found.items() if units}


def root_unit_ids(session: Session, day: date) -> list[uuid.UUID]:
    """The roots of every tree loaded, valid on `day`."""
    query = select(AdminUnit.id).where(AdminUnit.parent_id.is_(None), valid_on(day))
    return list(session.scalars(query))


WARD_LEVELS = ("ward", "commune")
"""The lowest level of the tree, where things are placed and counted."""


def wards_within(session: Session, paths: Sequence[str], day: date) -> list[AdminUnit]:
    """The wards (and communes) inside the subtrees `paths` that exist on `day`, by code."""
    query = select(AdminUnit).where(
        AdminUnit.id.in_(units_within(paths)), AdminUnit.level.in_(WARD_LEVELS), valid_on(day)
    )
    return list(session.scalars(query.order_by(AdminUnit.code)))


def wards_under(session: Session, code: str, day: date) -> list[AdminUnit]:
    """The wards inside the unit with `code` on `day` (a district, a province), by code."""
    root = unit_ids_by_code(session, [code], day).get(code)
    if root is None:
        raise NotFound(f"No unit has the code {code!r}.")
    return wards_within(session, [unit_paths(session, [root])[root]], day)
