"""Placing reads categories, routing and places from memory: a change made in this process
is seen by the very next report, one made elsewhere once the copy expires."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select, text, update

from dothi.accounts.orgunits import update_org_unit
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import OrgUnitUpdate
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import InvalidInput
from dothi.places.models import AdminUnit
from dothi.reports import placing, service
from dothi.reports.catalogue import define_category, list_categories
from dothi.reports.models import Category
from dothi.reports.routing import set_route
from dothi.reports.schemas import CategoryIn
from tests.reports.helpers import POLICY, District

NEW_CATEGORY = CategoryIn(
    code="ngap-sau",
    name="Ngập sâu",
    name_en="Deep flooding",
    group="Hạ tầng đô thị",
    unit_kind="utility",
    urgent_hours=2,
    normal_hours=8,
)


def _unit_of_new_report(
    db: Database, district: District, clock: FixedClock, category: str = "trat-tu-do-thi"
) -> uuid.UUID | None:
    """Submit a report in Phường 9 and say which organisational unit it was routed to."""
    data = district.report(category)
    with db.write() as session:
        receipt = service.submit_report(
            session, POLICY, clock, data, submitted_by="t", source="web"
        )
        return service.report_by_code(session, receipt.tracking_code).org_unit_id


def _category(db: Database, code: str) -> CategoryIn:
    with db.read() as session:
        found = [c for c in list_categories(session) if c.code == code]
    return CategoryIn.model_validate(found[0].model_dump())


def test_a_new_routing_rule_is_used_by_the_next_report(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    assert _unit_of_new_report(demo_db, district, clock) == district.units["ubnd-p9"]
    with demo_db.write() as session:
        set_route(session, SYSTEM, "trat-tu-do-thi", district.units["phong-qldt"])
    assert _unit_of_new_report(demo_db, district, clock) == district.units["phong-qldt"]


def test_a_deactivated_unit_receives_no_more_reports(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    assert _unit_of_new_report(demo_db, district, clock) == district.units["ubnd-p9"]
    with demo_db.write() as session:
        change = OrgUnitUpdate(active=False)
        update_org_unit(session, SYSTEM, district.units["ubnd-p9"], change, clock)
    assert _unit_of_new_report(demo_db, district, clock) is None  # for the IOC to dispatch


def test_a_deactivated_category_is_refused_by_the_next_report(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    _unit_of_new_report(demo_db, district, clock)
    closed = _category(demo_db, "trat-tu-do-thi").model_copy(update={"active": False})
    with demo_db.write() as session:
        define_category(session, SYSTEM, closed)
    with pytest.raises(InvalidInput, match="No such category"):
        _unit_of_new_report(demo_db, district, clock)


def test_a_bulk_update_through_the_orm_is_seen_by_the_next_report(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    _unit_of_new_report(demo_db, district, clock)
    with demo_db.write() as session:
        session.execute(update(Category).values(active=False))
    with pytest.raises(InvalidInput, match="No such category"):
        _unit_of_new_report(demo_db, district, clock)


def test_a_category_not_yet_committed_is_seen_by_its_own_session_only(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    _unit_of_new_report(demo_db, district, clock)
    data = district.report(NEW_CATEGORY.code)
    with demo_db.write() as session:
        define_category(session, SYSTEM, NEW_CATEGORY)
        placed = service.place_report(session, POLICY, data, clock.now())
        with demo_db.read() as other, pytest.raises(InvalidInput, match="No such category"):
            service.place_report(other, POLICY, data, clock.now())
    assert _unit_of_new_report(demo_db, district, clock, NEW_CATEGORY.code) == placed.unit_id


def test_a_change_the_orm_did_not_see_is_seen_once_the_copy_expired(
    demo_db: Database, district: District, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(placing, "TTL_SECONDS", 0.0)  # another process's change, at once
    _unit_of_new_report(demo_db, district, clock)
    with demo_db.write() as session:
        session.execute(text("UPDATE report_categories SET active = false"))
    with pytest.raises(InvalidInput, match="No such category"):
        _unit_of_new_report(demo_db, district, clock)


def test_only_the_tree_of_the_root_unit_is_served(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    with demo_db.read() as session:
        codes = dict(session.execute(select(AdminUnit.name, AdminUnit.code)).all())
    data = district.report("trat-tu-do-thi", "Phường 9")
    for root, served in (("768", True), (codes["Phường 9"], True), (codes["Phường 7"], False)):
        policy = dataclasses.replace(POLICY, root_unit=root)
        with demo_db.read() as session:
            if served:
                assert service.place_report(session, policy, data, clock.now()).ward_id
            else:
                with pytest.raises(InvalidInput, match="outside the area served"):
                    service.place_report(session, policy, data, clock.now())
