"""Statistics of a period: on-time rate, backlog by age, medians, satisfaction, by group."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.reports import service, workflow
from dothi.reports.schemas import RatingIn
from dothi.reports.stats import Period, period_of, previous, report_stats
from tests.accounts.helpers import principal
from tests.reports.helpers import POLICY, District, actor

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_periods_run_from_the_cut_off_day_to_the_next() -> None:
    assert period_of(date(2026, 1, 25), 25) == Period(date(2026, 1, 25), date(2026, 2, 25))
    assert period_of(date(2026, 1, 24), 25) == Period(date(2025, 12, 25), date(2026, 1, 25))
    assert period_of(date(2026, 12, 31), 1) == Period(date(2026, 12, 1), date(2027, 1, 1))
    assert previous(Period(date(2026, 1, 25), date(2026, 2, 25)), 25).start == date(2025, 12, 25)
    with pytest.raises(InvalidInput):
        period_of(date(2026, 1, 1), 31)


def _send(db: Database, district: District, clock: FixedClock, category: str, ward: str) -> str:
    data = district.report(category, ward)
    with db.write() as session:
        receipt = service.submit_report(
            session, POLICY, clock, data, submitted_by="t", source="web"
        )
    return receipt.tracking_code


def test_figures_of_a_period_by_ward_unit_and_category(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    fixed = _send(demo_db, district, clock, "trat-tu-do-thi", "Phường 9")
    _send(demo_db, district, clock, "trat-tu-do-thi", "Phường 9")
    _send(demo_db, district, clock, "trat-tu-do-thi", "Phường 7")
    officer = actor(demo_db, "officer.p9")
    clock.advance(timedelta(hours=2))
    with demo_db.write() as session:
        workflow.accept(session, officer, clock, fixed)
        clock.advance(timedelta(hours=2))
        workflow.resolve(session, officer, clock, fixed, "Xong")
    clock.advance(timedelta(days=5))
    period = period_of(date(2026, 1, 15), 25)
    manager = principal(demo_db, "manager")
    with demo_db.read() as session:
        by_ward = report_stats(session, manager, period, "ward", ZONE, clock.now())
        by_unit = report_stats(session, manager, period, "unit", ZONE, clock.now())
        by_category = report_stats(session, manager, period, "category", ZONE, clock.now())
        mine = report_stats(session, officer, period, "ward", ZONE, clock.now())
    total = by_ward.total
    assert (total.received, total.closed, total.on_time, total.on_time_rate) == (3, 1, 1, 1.0)
    assert total.backlog == (0, 2, 0)
    assert total.median_accept_hours == pytest.approx(2.0)
    assert total.median_resolve_hours == pytest.approx(4.0)
    wards = {g.name: g.received for g in by_ward.groups}
    assert wards == {"Phường 9": 2, "Phường 7": 1}
    committees = {str(district.units["ubnd-p9"]), str(district.units["ubnd-p7"])}
    assert {g.key for g in by_unit.groups} == committees
    assert [g.received for g in by_category.groups] == [3]
    assert mine.total.received == 2
    with demo_db.read() as session, pytest.raises(Forbidden):
        report_stats(session, principal(demo_db, "portal"), period, "ward", ZONE, clock.now())


def test_satisfaction_counts_the_ratings(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    data = district.report("trat-tu-do-thi")
    with demo_db.write() as session:
        receipt = service.submit_report(
            session, POLICY, clock, data, submitted_by="t", source="web"
        )
        workflow.resolve(
            session, actor(demo_db, "officer.p9"), clock, receipt.tracking_code, "Xong"
        )
        workflow.rate(session, clock, receipt.tracking_code, receipt.token, RatingIn(score=4))
    with demo_db.read() as session:
        stats = report_stats(
            session,
            principal(demo_db, "manager"),
            period_of(date(2026, 1, 15), 1),
            "category",
            ZONE,
            clock.now(),
        )
    assert (stats.total.satisfaction, stats.total.ratings) == (4.0, 1)
    assert stats.groups[0].name == "Trật tự đô thị"
