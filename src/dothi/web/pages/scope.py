"""What list pages share: the places a user may filter by, and paging."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock, local_date
from dothi.places.models import AdminUnit
from dothi.places.service import MAX_PAGE, list_units

PAGE_SIZE = 50


def places_in_scope(session: Session, actor: Principal, clock: Clock, zone: str) -> list[AdminUnit]:
    """The mapped units valid today that the actor sees (district and wards, say)."""
    today = local_date(clock.now(), zone)
    return [
        unit
        for unit in list_units(session, at=today, limit=MAX_PAGE)
        if unit.boundary is not None and actor.sees(unit.path)
    ]


def page_offset(page: int) -> int:
    """How many items come before page `page` (counted from 1)."""
    return (page - 1) * PAGE_SIZE


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages of `size` the `total` items fill (at least one, for the empty list)."""
    return max(1, -(-total // size))
