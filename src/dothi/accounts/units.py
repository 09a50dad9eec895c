"""Scope filters in SQL: rows placed in a principal's subtrees, or inside one unit.

The administrative tree belongs to places: accounts reads it through the places
service only (an import-linter contract forbids `dothi.places.models` here). A
scope check needs no more than a unit's materialized path (`/<root>/<district>/<ward>/`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, SQLColumnExpression, or_
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.places.service import unit_paths, units_within


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
