"""Helpers of the places tests: dates of the bundled trees, units by key, row counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.places.models import AdminUnit
from dothi.places.schemas import UnitIn
from dothi.places.service import find_unit

DEMO_FROM = date(2020, 1, 1)
REFORM_FROM = date(2025, 7, 1)
TODAY = date(2026, 1, 15)
PHUONG_7 = (106.6885, 10.8005)
"""A hand-picked point about 200 m inside Phường 7 (near Phan Xích Long)."""
BEN_THANH = (106.698, 10.772)
"""Bến Thành market, District 1: outside Phú Nhuận."""


def unit(session: Session, code: str, valid_from: date = DEMO_FROM) -> AdminUnit:
    """The stored unit keyed (code, valid_from); fails the test when missing."""
    found = find_unit(session, code, valid_from)
    assert found is not None, f"no unit {code} from {valid_from}"
    return found


def count_units(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AdminUnit)) or 0


def unit_in(code: str, name: str, level: str, parent: str | None = None, **fields: Any) -> UnitIn:
    """A unit to create, valid from DEMO_FROM unless told otherwise."""
    fields.setdefault("valid_from", DEMO_FROM)
    return UnitIn(code=code, name=name, level=level, parent=parent, **fields)


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A GeoJSON square with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}
