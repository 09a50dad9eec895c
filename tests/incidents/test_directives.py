"""A directive with a deadline tomorrow: reminded before it, overdue after it for the unit
that did not close, and shown overdue on the leader's board. On both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from dothi.alarms.models import Alarm, AlarmState
from dothi.errors import Forbidden, InvalidInput
from dothi.incidents import directives
from dothi.incidents.models import Directive, TimelineEntry
from dothi.incidents.schemas import DirectiveIn, DirectiveQuery, ProgressIn
from tests.incidents.helpers import Desk


def _issue(desk: Desk, hours: float = 24) -> Directive:
    data = DirectiveIn(
        title="Khơi thông cống đường Phan Đăng Lưu",
        content="Kiểm tra, nạo vét toàn bộ hố ga trước mùa mưa; báo cáo kết quả.",
        priority="high",
        deadline=desk.clock.now() + timedelta(hours=hours),
        unit_ids=[desk.unit("ubnd-p7"), desk.unit("cty-thoatnuoc")],
    )
    with desk.db.write() as session:
        return directives.issue(session, desk.who("leader"), data, desk.clock)


def test_a_directive_is_reminded_then_overdue_and_on_the_board(desk: Desk) -> None:
    directive = _issue(desk)
    p7, drain, leader = desk.who("officer.p7"), desk.who("officer.drain"), desk.who("leader")
    with desk.db.write() as session:
        directives.acknowledge(session, p7, directive.id, desk.clock)
        directives.report_progress(
            session,
            drain,
            directive.id,
            ProgressIn(percent=40, text="Đã nạo vét 8/20 hố ga"),
            desk.clock,
        )
    desk.clock.advance(timedelta(hours=19))
    with desk.db.write() as session:
        assert directives.remind_due(session, desk.clock) == []  # 5 hours left
    desk.clock.advance(timedelta(hours=1, minutes=1))
    with desk.db.write() as session:
        reminded = directives.remind_due(session, desk.clock)
        assert directives.remind_due(session, desk.clock) == []  # once
    assert sorted(c.kind for c in reminded) == ["reminded", "reminded"]
    desk.clock.advance(timedelta(hours=2))
    with desk.db.write() as session:
        directives.close(session, p7, directive.id, "Đã hoàn thành", desk.clock)
    desk.clock.advance(timedelta(hours=2))  # the deadline passes
    with desk.db.write() as session:
        overdue = directives.remind_due(session, desk.clock)
        assert directives.remind_due(session, desk.clock) == []
    assert [(c.org_unit_id, c.kind) for c in overdue] == [(desk.unit("cty-thoatnuoc"), "overdue")]

    with desk.db.read() as session:
        board = {row.org_unit_name: row for row in directives.board(session, leader, desk.clock)}
        late = directives.list_directives(
            session, leader, DirectiveQuery(status="overdue"), desk.clock
        )
        kinds = session.scalars(
            select(TimelineEntry.kind)
            .where(TimelineEntry.directive_id == directive.id)
            .order_by(TimelineEntry.id)
        ).all()
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(directive.id))
        ).all()
    drainage = next(row for name, row in board.items() if "Thoát nước" in name)
    ward = next(row for name, row in board.items() if "Phường 7" in name)
    assert drainage.counts == {"overdue": 1} and drainage.items[0].percent == 40
    assert ward.counts == {"closed": 1} and not ward.items[0].overdue
    assert next(iter(board.values())) is drainage  # the overdue first
    assert [d.id for d in late] == [directive.id]
    assert kinds.count("reminded") == 2 and kinds.count("overdue") == 1
    assert "directive.overdue" in audited


def test_an_overdue_part_raises_an_alarm_that_closing_it_clears(desk: Desk) -> None:
    directive = _issue(desk)
    drain = desk.who("officer.drain")
    desk.clock.advance(timedelta(hours=25))
    with desk.db.write() as session:
        directives.remind_due(session, desk.clock)
    with desk.db.read() as session:
        alarms = session.scalars(select(Alarm).where(Alarm.rule_code == "directive-overdue")).all()
    # One per unit that had not closed: high priority is critical; each in its unit's place.
    assert len(alarms) == 2
    assert {a.severity for a in alarms} == {"critical"}
    assert all(a.state == AlarmState.ACTIVE and str(directive.id) in a.entity_id for a in alarms)
    with desk.db.write() as session:
        directives.close(session, drain, directive.id, "Đã nạo vét xong", desk.clock)
    with desk.db.read() as session:
        states = sorted(
            session.scalars(select(Alarm.state).where(Alarm.rule_code == "directive-overdue")).all()
        )
    assert states == [AlarmState.ACTIVE, AlarmState.CLEARED]


def test_a_unit_acts_only_on_its_own_part(desk: Desk) -> None:
    directive = _issue(desk)
    p9 = desk.who("officer.p9")
    with desk.db.write() as session, pytest.raises(Forbidden):
        directives.acknowledge(session, p9, directive.id, desk.clock)
    with desk.db.read() as session:
        with pytest.raises(Forbidden):
            directives.get_directive(session, p9, directive.id, desk.clock)
        assert directives.list_directives(session, p9, DirectiveQuery(), desk.clock) == []
        mine = directives.get_directive(session, desk.who("officer.p7"), directive.id, desk.clock)
    assert [t.org_unit_id for t in mine.targets] == [desk.unit("ubnd-p7")]
    assert {e.org_unit_id for e in mine.timeline} == {desk.unit("ubnd-p7")}


def test_a_deadline_in_the_past_is_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput):
        _issue(desk, hours=-1)
