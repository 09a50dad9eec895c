"""A flood played through: critical alarm → incident with the flooding SOP → steps to the
ward committee and the drainage company → a late step escalates → steps done → resolved →
closed; then its indicators. On both backends, with a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from dothi.errors import Conflict, Forbidden
from dothi.incidents import service, steps
from dothi.incidents.indicators import indicators
from dothi.incidents.models import Incident, IncidentStep, TimelineEntry
from dothi.incidents.schemas import FromAlarmIn, Period, StatusIn
from dothi.incidents.vocab import IncidentStatus
from tests.incidents.helpers import Desk


def _steps(desk: Desk, incident: Incident) -> list[IncidentStep]:
    with desk.db.read() as session:
        query = select(IncidentStep).where(IncidentStep.incident_id == incident.id)
        return list(session.scalars(query.order_by(IncidentStep.position)))


def _incident(desk: Desk, incident: Incident) -> Incident:
    with desk.db.read() as session:
        return session.get_one(Incident, incident.id)


def _at(desk: Desk, start: datetime, minutes: int) -> None:
    """Move the clock to `minutes` after `start`."""
    desk.clock.advance(start + timedelta(minutes=minutes) - desk.clock.now())


def test_a_flood_from_alarm_to_closed_incident(desk: Desk) -> None:
    alarm = desk.flood(0.4)
    assert (alarm.severity, alarm.state) == ("critical", "active")
    operator, p7, drain = desk.who("operator"), desk.who("officer.p7"), desk.who("officer.drain")
    start = desk.clock.now()

    with desk.db.write() as session:
        opened = service.open_from_alarm(
            session, operator, FromAlarmIn(alarm_id=alarm.id), desk.clock
        )
    incident = _incident(desk, opened)
    assert (incident.type, incident.sop_code, incident.status) == ("flooding", "flooding", "new")
    assert incident.admin_unit_id == alarm.admin_unit_id == desk.district.wards["Phường 7"]
    assert (incident.lon, incident.lat, incident.priority) == (alarm.lon, alarm.lat, "critical")
    assert incident.title == alarm.rule_name
    plan = _steps(desk, incident)
    assert [(s.unit_kind or s.role, s.target_minutes) for s in plan] == [
        ("operator", 10),
        ("ward_committee", 30),
        ("utility", 45),
        ("ward_committee", 90),
        ("utility", 180),
    ]

    with desk.db.write() as session:  # the ward's committee by default; the drainage by name
        for step in plan[1:]:
            unit = desk.unit("cty-thoatnuoc") if step.unit_kind == "utility" else None
            steps.dispatch(session, operator, step.id, unit, "", desk.clock)
    plan = _steps(desk, incident)
    assert [s.org_unit_id for s in plan[1:]] == [
        desk.unit("ubnd-p7"),
        desk.unit("cty-thoatnuoc"),
        desk.unit("ubnd-p7"),
        desk.unit("cty-thoatnuoc"),
    ]
    assert _incident(desk, incident).status == "dispatched"

    _at(desk, start, 5)
    with desk.db.write() as session:
        steps.finish(session, operator, plan[0].id, "Đã xác minh qua camera", desk.clock)
    assert _incident(desk, incident).status == "dispatched"  # the IOC's own step
    _at(desk, start, 8)
    with desk.db.write() as session:
        steps.acknowledge(session, p7, plan[1].id, "", desk.clock)
    assert _incident(desk, incident).status == "in_progress"
    with desk.db.write() as session, pytest.raises(Forbidden):
        steps.acknowledge(session, drain, plan[1].id, "", desk.clock)  # the ward's step
    _at(desk, start, 10)
    with desk.db.write() as session:
        steps.acknowledge(session, drain, plan[2].id, "", desk.clock)
    _at(desk, start, 20)
    with desk.db.write() as session:
        steps.finish(session, p7, plan[1].id, "Đã cắm biển, phân luồng", desk.clock)

    _at(desk, start, 44)
    with desk.db.write() as session:
        assert steps.escalate_due(session, desk.clock) == []
    _at(desk, start, 46)  # the drainage company's 45 minutes are up
    with desk.db.write() as session:
        escalated = steps.escalate_due(session, desk.clock)
    assert [(c.step_id, c.kind) for c in escalated] == [(plan[2].id, "step_escalated")]
    _at(desk, start, 50)
    with desk.db.write() as session:
        assert steps.escalate_due(session, desk.clock) == []  # reminded only after 10 minutes
        steps.finish(session, drain, plan[2].id, "Đã bơm xong", desk.clock)
    _at(desk, start, 60)
    with desk.db.write() as session:
        steps.finish(session, p7, plan[3].id, "", desk.clock)
    with desk.db.write() as session, pytest.raises(Conflict):  # step 5 is still open
        service.change_status(
            session, operator, incident.id, StatusIn(status="resolved"), desk.clock
        )
    _at(desk, start, 120)
    with desk.db.write() as session:
        steps.finish(session, drain, plan[4].id, "Nước đã rút", desk.clock)
    _at(desk, start, 125)
    with desk.db.write() as session:
        service.change_status(
            session, operator, incident.id, StatusIn(status="resolved"), desk.clock
        )
    _at(desk, start, 130)
    with desk.db.write() as session:
        service.change_status(session, operator, incident.id, StatusIn(status="closed"), desk.clock)

    done = _steps(desk, incident)
    assert [s.state for s in done] == ["done"] * 5
    assert [int((s.done_at - start).total_seconds() // 60) for s in done if s.done_at] == [
        5,
        20,
        50,
        60,
        120,
    ]
    assert [s.escalation_level for s in done] == [0, 0, 1, 0, 0]
    assert [s.done_by for s in done] == [
        "operator",
        "officer.p7",
        "officer.drain",
        "officer.p7",
        "officer.drain",
    ]
    closed = _incident(desk, incident)
    assert closed.status == IncidentStatus.CLOSED
    assert closed.closed_at == start + timedelta(minutes=130)

    with desk.db.read() as session:
        kinds = session.scalars(
            select(TimelineEntry.kind)
            .where(TimelineEntry.incident_id == incident.id)
            .order_by(TimelineEntry.id)
        ).all()
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(incident.id))
        ).all()
        figures = indicators(session, operator, Period(), desk.clock)
    assert kinds[:3] == ["opened", "linked", "sop_started"]
    assert kinds.count("step_escalated") == 1 and kinds[-2:] == ["status", "status"]
    assert sorted(audited) == sorted(f"incident.{kind}" for kind in kinds)

    (flooding,) = figures.by_type
    assert (flooding.type, flooding.incidents) == ("flooding", 1)
    assert (flooding.to_acknowledge.count, flooding.to_acknowledge.mean_minutes) == (1, 8.0)
    assert flooding.to_resolve.mean_minutes == flooding.to_resolve.median_minutes == 125.0
    assert (flooding.steps_judged, flooding.steps_on_time) == (5, 4)
    assert flooding.steps_on_time_share == 0.8


def test_an_alarm_opens_one_incident_only(desk: Desk) -> None:
    alarm = desk.flood(0.4)
    operator = desk.who("operator")
    with desk.db.write() as session:
        service.open_from_alarm(session, operator, FromAlarmIn(alarm_id=alarm.id), desk.clock)
    with desk.db.write() as session, pytest.raises(Conflict):
        service.open_from_alarm(session, operator, FromAlarmIn(alarm_id=alarm.id), desk.clock)
