"""Alarms as people read them: lists of one's area, one alarm with its history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dothi.accounts.permissions import Principal, is_root_path
from dothi.alarms.models import Alarm, AlarmEvent, AlarmState
from dothi.alarms.schemas import Severity
from dothi.errors import NotFound
from dothi.places.service import units_within

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
    query = select(Alarm).where(in_area(actor))
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


def in_area(
    actor: Principal, place: InstrumentedAttribute[uuid.UUID | None] = Alarm.admin_unit_id
) -> ColumnElement[bool]:
    """Rows whose `place` (an alarm's ward by default) is in the actor's scope; unplaced
    ones only for whole-tree scopes."""
    placed = place.in_(units_within(actor.scope_paths))
    if any(is_root_path(path) for path in actor.scope_paths):
        return or_(placed, place.is_(None))
    return and_(placed)


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
