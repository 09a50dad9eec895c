"""Where accounts meet the administrative tree: unit ids, paths and subtrees.

The only module of accounts that reads `admin_units` (through the places
service where it has what is needed); a scope check needs no more than a
unit's materialized path (`/<root>/<district>/<ward>/`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, false, or_, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.places.models import AdminUnit
from dothi.places.service import units_with_code, valid_on


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


def in_scope(
    column: SQLColumnExpression[uuid.UUID | None], principal: Principal
) -> ColumnElement[bool]:
    """SQL for `principal.sees(<path of the unit in column>)`."""
    within = column.in_(units_within(principal.scope_paths))
    return or_(within, column.is_(None)) if principal.sees(None) else within


def within_unit(
    session: Session, column: SQLColumnExpression[uuid.UUID | None], unit_id: uuid.UUID
) -> ColumnElement[bool]:
    """SQL: the unit in `column` is `unit_id` or inside it (false for an unknown unit)."""
    path = unit_paths(session, [unit_id]).get(unit_id)
    return column.in_(units_within([path] if path else []))


def unit_ids_by_code(session: Session, codes: Collection[str], day: date) -> dict[str, uuid.UUID]:
    """The unit carrying each code on `day` (codes are reused: the period valid then)."""
    found = {code: units_with_code(session, code, day) for code in codes}
    return {code: units[0].id for code, units in found.items() if units}


def root_unit_ids(session: Session, day: date) -> list[uuid.UUID]:
    """The roots of every tree loaded, valid on `day`."""
    query = select(AdminUnit.id).where(AdminUnit.parent_id.is_(None), valid_on(day))
    return list(session.scalars(query))
