"""Organisational units: created in scope, listed by scope, changed and deactivated."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from dothi.accounts import orgunits, service
from dothi.accounts.models import AuditEntry, OrgUnitKind
from dothi.accounts.permissions import Role
from dothi.accounts.schemas import OrgUnitCreate, OrgUnitQuery, OrgUnitUpdate, UserCreate
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.accounts.helpers import Town, add_user, principal


def _police(town: Town, ward: str = "Phường 9", code: str = "CA-P9") -> OrgUnitCreate:
    return OrgUnitCreate(
        code=code, name=f"Công an {ward}", kind=OrgUnitKind.POLICE, admin_unit_id=town.wards[ward]
    )


def test_an_admin_creates_and_deactivates_a_unit(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    with demo_db.write() as session:
        created = orgunits.create_org_unit(session, admin, _police(town), clock)
        changed = orgunits.update_org_unit(
            session, admin, created.id, OrgUnitUpdate(name="Công an phường 9", active=False), clock
        )
    assert created.kind is OrgUnitKind.POLICE and created.active
    assert changed.name == "Công an phường 9" and not changed.active
    data = UserCreate.model_validate(
        {
            "username": "ca.p9",
            "password": "một mật khẩu dài",
            "role": "officer",
            "org_unit_id": created.id,
        }
    )
    with demo_db.write() as session, pytest.raises(InvalidInput):
        service.create_user(session, admin, data, clock)


def test_codes_are_unique_and_places_must_exist(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    with demo_db.write() as session, pytest.raises(Conflict):
        orgunits.create_org_unit(session, admin, _police(town, code="UBND-9"), clock)
    nowhere = OrgUnitCreate(code="X", name="X", kind=OrgUnitKind.OTHER, admin_unit_id=uuid.uuid4())
    with demo_db.write() as session, pytest.raises(InvalidInput):
        orgunits.create_org_unit(session, admin, nowhere, clock)


def test_officers_cannot_create_units(demo_db: Database, town: Town, clock: FixedClock) -> None:
    officer = principal(demo_db, "officer.p9")
    with demo_db.write() as session, pytest.raises(Forbidden):
        orgunits.create_org_unit(session, officer, _police(town), clock)


def test_units_are_listed_and_read_within_scope(demo_db: Database, town: Town) -> None:
    officer = principal(demo_db, "officer.p2")
    operator = principal(demo_db, "operator")
    with demo_db.read() as session:
        own = orgunits.list_org_units(session, officer, OrgUnitQuery())
        everything = orgunits.list_org_units(session, operator, OrgUnitQuery(limit=500))
        committees = orgunits.list_org_units(
            session, operator, OrgUnitQuery(kind=OrgUnitKind.WARD_COMMITTEE, ward=town.district)
        )
        assert orgunits.get_org_unit(session, officer, town.committees["Phường 2"]).code == "UBND-2"
        with pytest.raises(Forbidden):
            orgunits.get_org_unit(session, officer, town.committees["Phường 9"])
        with pytest.raises(NotFound):
            orgunits.get_org_unit(session, officer, uuid.uuid4())
    assert [unit.code for unit in own.items] == ["UBND-2"]
    assert everything.total == 16 and committees.total == 15


def test_a_ward_admin_cannot_place_units_outside_the_ward(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    with demo_db.write() as session:
        add_user(
            session, "admin.p2", Role.ADMIN, town.committees["Phường 2"], [town.wards["Phường 2"]]
        )
    ward_admin = principal(demo_db, "admin.p2")
    move = OrgUnitUpdate(admin_unit_id=town.wards["Phường 9"])
    with demo_db.write() as session:
        with pytest.raises(Forbidden):
            orgunits.create_org_unit(session, ward_admin, _police(town), clock)
        with pytest.raises(Forbidden):
            orgunits.update_org_unit(session, ward_admin, town.committees["Phường 2"], move, clock)
        assert orgunits.create_org_unit(
            session, ward_admin, _police(town, "Phường 2", "CA-P2"), clock
        )


def test_a_unit_that_moves_is_audited_in_both_wards(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    with demo_db.write() as session:
        created = orgunits.create_org_unit(session, admin, _police(town), clock)
        move = OrgUnitUpdate(admin_unit_id=town.wards["Phường 2"])
        orgunits.update_org_unit(session, admin, created.id, move, clock)
    with demo_db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "org_unit.update")
        ).all()
    assert {entry.admin_unit_id for entry in entries} == {
        town.wards["Phường 9"],
        town.wards["Phường 2"],
    }
