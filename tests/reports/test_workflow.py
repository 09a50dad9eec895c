"""The life of a report, with deadlines in working hours over a weekend and holidays."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Conflict, Forbidden, InvalidInput
from dothi.reports import service, workflow
from dothi.reports.models import Follower, Report
from dothi.reports.schemas import OfficerQuery, RatingIn, Receipt, StateChange
from tests.reports.helpers import POLICY, District, actor

HCM = POLICY.calendar.zone


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


def _submit(db: Database, district: District, clock: FixedClock, **fields: str) -> Receipt:
    with db.write() as session:
        return service.submit_report(
            session,
            POLICY,
            clock,
            district.report("trat-tu-do-thi", **fields),
            submitted_by="citizen",
            source="web",
        )


def _report(db: Database, code: str) -> Report:
    with db.read() as session:
        return service.report_by_code(session, code)


def test_report_accept_update_resolve_rate_reopen_resolve(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    # Friday 24 April, 16:00: an urgent report; the weekend and Hùng Kings' day follow.
    clock.advance(local(24, 4, 16) - clock.now())
    receipt = _submit(demo_db, district, clock, urgency="urgent")
    code, token = receipt.tracking_code, receipt.token
    report = _report(demo_db, code)
    assert report.due_at == local(28, 4, 10, 30)  # 4 working hours: 1 on Friday, 3 on Tuesday
    assert report.accept_due_at == local(28, 4, 16)  # 8 working hours to accept
    officer = actor(demo_db, "officer.p9")

    clock.advance(local(28, 4, 8) - clock.now())
    with demo_db.write() as session:
        workflow.accept(session, officer, clock, code, "Đã giao tổ trật tự")
        workflow.change_state(
            session, officer, clock, code, StateChange(state="in_progress", note="Đang xử lý")
        )
        workflow.change_state(
            session, officer, clock, code, StateChange(note="Liên hệ hộ kinh doanh", public=False)
        )
    clock.advance(timedelta(hours=2))  # Tuesday 10:00, before the deadline
    with demo_db.write() as session:
        workflow.resolve(session, officer, clock, code, "Đã giải tỏa vỉa hè")
        workflow.rate(session, clock, code, token, RatingIn(score=2, comment="Lại tái diễn"))
        with pytest.raises(Conflict, match="already"):
            workflow.rate(session, clock, code, token, RatingIn(score=5))
    report = _report(demo_db, code)
    assert (report.state, report.on_time, report.closed_at) == ("fixed", True, clock.now())
    assert report.closed_at is not None
    assert POLICY.calendar.between(report.created_at, report.closed_at) == pytest.approx(3.5)

    # Wednesday 29 April, 9:00: the citizen reopens; the clock starts again.
    clock.advance(local(29, 4, 9) - clock.now())
    with demo_db.write() as session:
        with pytest.raises(Forbidden):
            workflow.reopen(session, POLICY, clock, code, "wrong-token", "Chưa xong")
        workflow.reopen(session, POLICY, clock, code, token, "Vẫn còn lấn chiếm")
    report = _report(demo_db, code)
    assert report.state == "submitted" and report.closed_at is None
    assert report.due_at == local(29, 4, 14, 30)  # 2.5 h in the morning, 1.5 h after lunch

    # Resolved after 30/4, 1/5 and a weekend: late.
    clock.advance(local(4, 5, 8) - clock.now())
    with demo_db.write() as session:
        workflow.resolve(session, officer, clock, code, "Đã cưỡng chế")
        workflow.rate(session, clock, code, token, RatingIn(score=4))
    with demo_db.read() as session:
        detail = service.get_report(session, officer, code, clock)
    assert detail.state.name == "Đã xử lý" and detail.overdue is False
    assert [u.action for u in detail.updates] == [
        "submit",
        "accept",
        "update",
        "update",
        "close",
        "reopen",
        "close",
    ]
    assert [u.public for u in detail.updates].count(False) == 1
    assert detail.rating == 4
    assert _report(demo_db, code).on_time is False


def test_rejecting_needs_a_reason_and_reopening_ends_after_7_days(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    receipt = _submit(demo_db, district, clock)
    officer = actor(demo_db, "officer.p9")
    with demo_db.write() as session, pytest.raises(InvalidInput, match="reason"):
        workflow.change_state(
            session, officer, clock, receipt.tracking_code, StateChange(state="rejected")
        )
    with demo_db.write() as session:
        workflow.reject(session, officer, clock, receipt.tracking_code, "Không thuộc thẩm quyền")
    clock.advance(timedelta(days=7, minutes=1))
    with demo_db.write() as session, pytest.raises(Conflict, match="7 days"):
        workflow.reopen(session, POLICY, clock, receipt.tracking_code, receipt.token, "Xem lại")


def test_duplicates_close_and_hand_their_followers_to_the_original(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    original = _submit(demo_db, district, clock, reporter_email="mot@example.vn")
    copy = _submit(demo_db, district, clock, reporter_email="hai@example.vn")
    with demo_db.write() as session:
        service.follow(session, clock, copy.tracking_code, "ba@example.vn")
        workflow.mark_duplicate(
            session, actor(demo_db, "officer.p9"), clock, copy.tracking_code, original.tracking_code
        )
    with demo_db.read() as session:
        report = service.report_by_code(session, original.tracking_code)
        assert service.followers(session, report.id) == ["ba@example.vn", "hai@example.vn"]
        assert session.scalar(select(Follower.id).where(Follower.report_id != report.id)) is None
        shown = service.get_public(session, copy.tracking_code)
    assert shown.state.code == "duplicate" and shown.duplicate_of == original.tracking_code


def test_only_the_unit_it_is_routed_to_handles_a_report(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = _submit(demo_db, district, clock).tracking_code
    with demo_db.write() as session:
        with pytest.raises(Forbidden):
            workflow.accept(session, actor(demo_db, "officer.drain"), clock, code)
        with pytest.raises(Forbidden):  # operators watch, they do not handle
            workflow.accept(session, actor(demo_db, "operator"), clock, code)
        workflow.accept(session, SYSTEM, clock, code)
        with pytest.raises(Conflict):
            workflow.accept(session, SYSTEM, clock, code)


def test_the_queue_puts_overdue_reports_first(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    late = _submit(demo_db, district, clock, urgency="normal").tracking_code
    clock.advance(timedelta(days=1))
    urgent = _submit(demo_db, district, clock, urgency="urgent").tracking_code
    clock.advance(timedelta(days=14))
    fresh = _submit(demo_db, district, clock, urgency="normal").tracking_code
    officer = actor(demo_db, "officer.p9")
    with demo_db.read() as session:
        queue = service.list_reports(session, officer, OfficerQuery(mine=True), clock)
        overdue = service.list_reports(session, officer, OfficerQuery(overdue=True), clock)
    # By the first deadline each one faces: `late` missed its acceptance deadline first.
    assert [r.tracking_code for r in queue.items] == [late, urgent, fresh]
    assert [r.overdue for r in queue.items] == [True, True, False]
    assert {r.tracking_code for r in overdue.items} == {urgent, late}
