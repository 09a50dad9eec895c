"""The area a dashboard shows: the wards of the caller's scope, or one of them.

Everything the dashboard counts or draws is placed in one of these wards: a ward
officer's area is their ward, so no answer can carry another ward's alarms or reports.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.errors import Forbidden, InvalidInput
from dothi.places.service import get_unit, units_with_code, wards_within

PERMISSION = "dashboard:read"


@dataclass(frozen=True, slots=True)
class Ward:
    """A ward of the area: what the dashboard shows of it."""

    id: uuid.UUID
    code: str
    name: str
    boundary: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Area:
    """The unit shown (a ward, or the smallest unit holding every ward) and its wards."""

    code: str
    name: str
    wards: tuple[Ward, ...]

    @property
    def ids(self) -> list[uuid.UUID]:
        return [ward.id for ward in self.wards]

    def code_of(self, ward_id: uuid.UUID | None) -> str | None:
        """The code of one of the area's wards, by id (None for anything else)."""
        return next((ward.code for ward in self.wards if ward.id == ward_id), None)


def area_of(session: Session, actor: Principal, day: date, ward: str | None = None) -> Area:
    """The actor's area on `day` (`dashboard:read`), or its ward with the code `ward`.

    Forbidden for a ward outside the actor's scope; InvalidInput for an unknown code.
    """
    actor.require(PERMISSION)
    units = wards_within(session, actor.scope_paths, day)
    wards = tuple(Ward(u.id, u.code, u.name, u.boundary) for u in units)
    if ward is not None:
        chosen = next((w for w in wards if w.code == ward), None)
        if chosen is not None:
            return Area(chosen.code, chosen.name, (chosen,))
        if units_with_code(session, ward, day):
            raise Forbidden(f"Ward {ward} is outside your area.")
        raise InvalidInput(f"No ward has the code {ward}.")
    holder = _common_unit([u.path for u in units])
    if holder is None:
        return Area("", "", wards)
    unit = get_unit(session, holder)
    return Area(unit.code, unit.name, wards)


def _common_unit(paths: Sequence[str]) -> uuid.UUID | None:
    """The deepest unit on every one of these materialized paths (None: no paths)."""
    common = posixpath.commonpath(paths).strip("/") if paths else ""
    return uuid.UUID(common.rsplit("/", 1)[-1]) if common else None
