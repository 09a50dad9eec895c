"""The directory of organisational units: bulk import, by code, through the same checks."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.models import OrgUnit
from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.places.models import AdminUnit
from tests.accounts.helpers import Town, principal


def _units(db: Database) -> dict[str, tuple[str, str]]:
    """code -> (kind, name of the place it works in)."""
    with db.read() as session:
        rows = session.execute(
            select(OrgUnit.code, OrgUnit.kind, AdminUnit.name).join(
                AdminUnit, AdminUnit.id == OrgUnit.admin_unit_id
            )
        )
        return {code: (str(kind), place) for code, kind, place in rows}


def test_the_demo_directory_places_every_body(demo_db: Database, clock: FixedClock) -> None:
    with demo_db.write() as session:
        result = import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock)
    units = _units(demo_db)
    assert result.created == len(units) == 49 and result.updated == 0
    kinds = Counter(kind for kind, _ in units.values())
    assert kinds["ward_committee"] == 15 and kinds["police"] == 16
    assert units["ubnd-p7"] == ("ward_committee", "Phường 7")
    assert units["ca-p17"] == ("police", "Phường 17")
    assert units["phong-qldt"] == ("department", "Quận Phú Nhuận")


def test_reimport_updates_by_code_and_only_what_changed(
    demo_db: Database, clock: FixedClock
) -> None:
    directory = json.loads(BUNDLED["phu-nhuan"].read_text())
    with demo_db.write() as session:
        import_directory(session, SYSTEM, directory, clock)
    directory["units"][0]["name"] = "Văn phòng UBND quận (đổi tên)"
    with demo_db.write() as session:
        result = import_directory(session, SYSTEM, directory, clock)
    assert (result.created, result.updated) == (0, 1)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(OrgUnit)) == 49


@pytest.mark.parametrize(
    ("units", "message"),
    [
        (
            [{"code": "x", "name": "X", "kind": "police", "place": "99999"}],
            "no administrative unit",
        ),
        ([{"code": "x", "name": "X", "kind": "army", "place": "768"}], "units.1.kind"),
        (
            [{"code": "x", "name": "X", "kind": "police", "place": "768"}] * 2,
            "codes used twice: x",
        ),
    ],
)
def test_a_bad_directory_is_refused_whole(
    demo_db: Database, clock: FixedClock, units: list[dict[str, str]], message: str
) -> None:
    good = {"code": "ok", "name": "Fine", "kind": "department", "place": "768"}
    with pytest.raises(InvalidInput, match=message), demo_db.write() as session:
        import_directory(session, SYSTEM, {"units": [good, *units]}, clock)
    assert "ok" not in _units(demo_db)


def test_an_import_needs_the_right_to_manage_bodies(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    leader = principal(demo_db, "leader.p2")
    with pytest.raises(Forbidden), demo_db.write() as session:
        import_directory(session, leader, BUNDLED["phu-nhuan"], clock)
