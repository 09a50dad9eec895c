"""Routing: the point gives the ward, (ward, category) gives the unit; re-routing has a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.reports import service, workflow
from dothi.reports.models import Report
from dothi.reports.routing import set_route, transfer_targets
from dothi.reports.schemas import Recategorise, Transfer
from tests.reports.helpers import POLICY, District, actor


def _submit(
    db: Database, district: District, clock: FixedClock, category: str, ward: str
) -> Report:
    with db.write() as session:
        receipt = service.submit_report(
            session, POLICY, clock, district.report(category, ward), submitted_by="t", source="web"
        )
    with db.read() as session:
        return service.report_by_code(session, receipt.tracking_code)


@pytest.mark.parametrize(
    ("category", "unit"),
    [
        ("trat-tu-do-thi", "ubnd-p9"),  # the ward's people's committee
        ("cap-thoat-nuoc", "cty-thoatnuoc"),  # the district's drainage company
        ("an-ninh-trat-tu", "ca-p9"),  # the ward police
        ("chieu-sang", "cty-chieusang"),
    ],
)
def test_a_report_in_ward_9_reaches_the_unit_of_its_category(
    demo_db: Database, district: District, clock: FixedClock, category: str, unit: str
) -> None:
    report = _submit(demo_db, district, clock, category, "Phường 9")
    assert report.admin_unit_id == district.wards["Phường 9"]
    assert report.org_unit_id == district.units[unit]
    assert report.state == "submitted" and report.accept_due_at is not None


def test_a_rule_for_one_ward_wins_over_the_rule_for_everywhere(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    with demo_db.write() as session:
        set_route(
            session, SYSTEM, "cap-thoat-nuoc", district.units["ubnd-p7"], district.wards["Phường 7"]
        )
    assert (
        _submit(demo_db, district, clock, "cap-thoat-nuoc", "Phường 7").org_unit_id
        == (district.units["ubnd-p7"])
    )
    assert (
        _submit(demo_db, district, clock, "cap-thoat-nuoc", "Phường 9").org_unit_id
        == (district.units["cty-thoatnuoc"])
    )


def test_a_point_outside_the_district_is_refused(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    data = district.report("cap-thoat-nuoc").model_copy(update={"lon": 105.85, "lat": 21.03})
    with demo_db.write() as session, pytest.raises(InvalidInput, match="outside"):
        service.submit_report(session, POLICY, clock, data, submitted_by="t", source="web")


def test_recategorising_routes_again_and_transferring_needs_the_new_unit_to_accept(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = _submit(demo_db, district, clock, "trat-tu-do-thi", "Phường 9").tracking_code
    officer = actor(demo_db, "officer.p9")
    with demo_db.write() as session:
        workflow.recategorise(
            session,
            officer,
            POLICY,
            clock,
            code,
            Recategorise(category="cap-thoat-nuoc", reason="Ngập, không phải lấn chiếm"),
        )
    with demo_db.read() as session:
        report = service.report_by_code(session, code)
        assert report.org_unit_id == district.units["cty-thoatnuoc"]
        assert report.state == "transferred" and report.accepted_at is None
    # The ward cannot act on it any more; the drainage company can, and hands it on.
    with demo_db.write() as session, pytest.raises(Forbidden):
        workflow.accept(session, officer, clock, code)
    drain = actor(demo_db, "officer.drain")
    with demo_db.write() as session:
        workflow.transfer(
            session,
            drain,
            POLICY,
            clock,
            code,
            Transfer(org_unit_id=district.units["cty-capnuoc"], reason="Vỡ ống cấp nước"),
        )
    with demo_db.read() as session:
        report = service.report_by_code(session, code)
        history = service.get_report(session, SYSTEM, code, clock).updates
    assert report.org_unit_id == district.units["cty-capnuoc"]
    assert [u.action for u in history] == ["submit", "recategorise", "transfer"]
    assert history[-1].note == "Vỡ ống cấp nước" and history[-1].state is not None
    assert history[-1].state.name == "Chuyển đơn vị khác"


def test_officers_see_their_area_and_their_unit_only(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = _submit(demo_db, district, clock, "trat-tu-do-thi", "Phường 9").tracking_code
    with demo_db.read() as session:
        with pytest.raises(Forbidden):
            service.get_report(session, actor(demo_db, "officer.p7"), code, clock)
        assert (
            service.get_report(session, actor(demo_db, "officer.p9"), code, clock).tracking_code
            == code
        )
        codes = session.scalars(select(Report.tracking_code)).all()
    assert codes == [code]


def test_transfer_targets_are_the_active_units_for_those_who_handle_reports(
    demo_db: Database, district: District
) -> None:
    with demo_db.read() as session:
        targets = transfer_targets(session, actor(demo_db, "officer.p9"))
        with pytest.raises(Forbidden):
            transfer_targets(session, actor(demo_db, "portal"))
    names = [target.name for target in targets]
    assert names == sorted(names)
    assert {district.units["cty-thoatnuoc"], district.units["ubnd-p7"]} <= {t.id for t in targets}
