"""Alarms as people read them: lists of one's area, one alarm with its history."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.accounts.units import in_scope
from dothi.alarms.models import Alarm, AlarmEvent, AlarmState
from dothi.alarms.schemas import Severity
from dothi.core.clock import as_utc
from dothi.errors import NotFound

StateFilter = Literal["open", "active", "acknowledged", "cleared", "all"]
"""`open`: active or acknowledged, what still needs someone."""


def alarms_query(
    actor: Principal,
    state: StateFilter = "open",
    severity: Severity | None = None,
    entity_id: str | None = None,
    ward_ids: Sequence[uuid.UUID] = (),
) -> Select[Alarm]:
    """The alarms of the actor's area, most severe and newest first."""
    actor.require("alarms:read")
    query = select(Alarm).where(in_scope(Alarm.admin_unit_id, actor))
    if state == "open":
        query = query.where(Alarm.state != AlarmState.CLEARED)
    elif state != "all":
        query = query.where(Alarm.state == state)
    if severity is not None:
        query = query.where(Alarm.severity == severity)
    if entity_id is not None:
        query = query.where(Alarm.entity_id == entity_id)
    if ward_ids:
        query = query.where(Alarm.admin_unit_id.in_(ward_ids))
    critical_first = (Alarm.severity == "critical").desc(), (Alarm.severity == "warning").desc()
    return query.order_by(*critical_first, Alarm.raised_at.desc(), Alarm.id)


def alarm_with_history(
    session: Session, actor: Principal, alarm_id: uuid.UUID
) -> tuple[Alarm, list[AlarmEvent]]:
    """One alarm of the actor's area and its transitions, oldest first."""
    alarm = session.scalar(alarms_query(actor, "all").where(Alarm.id == alarm_id))
    if alarm is None:
        raise NotFound("No such alarm in your area.")
    events = session.scalars(
        select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.at)
    ).all()
    return alarm, list(events)


# For dashboards: what is open in a set of wards, in a few columns -----------------------

OPEN_STATES = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class OpenAlarm:
    """An open alarm as a map or a list of the most urgent shows it."""

    id: uuid.UUID
    severity: str
    state: str
    rule: str
    rule_name: str
    entity_id: str
    ward_id: uuid.UUID | None
    lon: float | None
    lat: float | None
    raised_at: datetime
    value: float | None


def open_alarms(
    session: Session, ward_ids: Collection[uuid.UUID], limit: int | None = None
) -> list[OpenAlarm]:
    """The open alarms placed in these wards, critical first, then the oldest first."""
    a = Alarm
    query = (
        select(
            a.id,
            a.severity,
            a.state,
            a.rule_code,
            a.rule_name,
            a.entity_id,
            a.admin_unit_id,
            a.lon,
            a.lat,
            a.raised_at,
            a.value,
        )
        .where(a.state.in_(OPEN_STATES), a.admin_unit_id.in_(ward_ids))
        .order_by((a.severity == "critical").desc(), (a.severity == "warning").desc())
        .order_by(a.raised_at, a.id)
        .limit(limit)
    )
    return [OpenAlarm(*row[:9], as_utc(row.raised_at), row.value) for row in session.execute(query)]


def open_alarm_counts(
    session: Session, ward_ids: Collection[uuid.UUID]
) -> Counter[tuple[uuid.UUID, str, str]]:
    """How many alarms are open per (ward, severity, state) in these wards."""
    a = Alarm
    query = (
        select(a.admin_unit_id, a.severity, a.state, func.count())
        .where(a.state.in_(OPEN_STATES), a.admin_unit_id.in_(ward_ids))
        .group_by(a.admin_unit_id, a.severity, a.state)
    )
    rows = session.execute(query)
    return Counter({(ward, severity, state): n for ward, severity, state, n in rows if ward})
