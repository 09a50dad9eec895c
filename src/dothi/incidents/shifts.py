"""The shift log (sổ trực): operators open and close shifts and write notable events; at
the end a handover note lists what is open, and the next operator signs it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.orgunits import get_org_unit
from dothi.accounts.permissions import Principal
from dothi.alarms.views import alarms_query
from dothi.core.clock import Clock, as_utc
from dothi.errors import Conflict, Forbidden, NotFound
from dothi.incidents.access import incidents_in_sight, visible_incident
from dothi.incidents.directives import overdue_parts
from dothi.incidents.models import Incident, IncidentStep, Shift, ShiftLogEntry
from dothi.incidents.schemas import Handover, HandoverItem, LogIn
from dothi.incidents.vocab import FINISHED_STEPS, OPEN_STATUSES, IncidentStatus, StepState

MAX_ITEMS = 500
"""At most this many items of each kind in a handover note."""


def open_shift(session: Session, actor: Principal, clock: Clock) -> Shift:
    """Start the actor's shift; one open shift per operator."""
    actor.require("shifts:keep")
    if session.scalar(select(Shift.id).where(Shift.open_key == actor.username)) is not None:
        raise Conflict("You have a shift open already; close it first.")
    shift = Shift(operator=actor.username, open_key=actor.username, opened_at=clock.now())
    session.add(shift)
    session.flush()
    _audit(session, clock, actor, "shift.open", shift)
    return shift


def write_log(
    session: Session, actor: Principal, shift_id: uuid.UUID, data: LogIn, clock: Clock
) -> ShiftLogEntry:
    """A notable event in the log book of the actor's open shift."""
    shift = _own_open_shift(session, actor, shift_id)
    if data.incident_id is not None:
        visible_incident(session, actor, data.incident_id)
    entry = ShiftLogEntry(
        shift_id=shift.id,
        at=clock.now(),
        actor=actor.username,
        text=data.text,
        incident_id=data.incident_id,
    )
    session.add(entry)
    session.flush()
    _audit(session, clock, actor, "shift.log", shift)
    return entry


def close_shift(
    session: Session, actor: Principal, shift_id: uuid.UUID, note: str, clock: Clock
) -> Shift:
    """End the actor's shift; the handover note is drafted from what is open now."""
    shift = _own_open_shift(session, actor, shift_id)
    now = clock.now()
    shift.open_key, shift.closed_at = None, now
    shift.handover = draft_handover(session, actor, shift, now).model_dump(mode="json")
    shift.handover_note = note
    _audit(session, clock, actor, "shift.close", shift)
    return shift


def sign_handover(session: Session, actor: Principal, shift_id: uuid.UUID, clock: Clock) -> Shift:
    """The next operator takes the shift over by signing its handover note."""
    actor.require("shifts:keep")
    shift = get_shift(session, actor, shift_id, lock=True)
    if shift.closed_at is None:
        raise Conflict("The shift is still open: its operator closes it first.")
    if shift.signed_by is not None:
        raise Conflict(f"{shift.signed_by} has signed this handover already.")
    if shift.operator == actor.username:
        raise Forbidden("The next operator signs the handover, not the one who wrote it.")
    shift.signed_by, shift.signed_at = actor.username, clock.now()
    _audit(session, clock, actor, "shift.sign", shift)
    return shift


def preview_handover(
    session: Session, actor: Principal, shift_id: uuid.UUID, clock: Clock
) -> Handover:
    """The handover note the actor's open shift would leave if it closed now."""
    shift = _own_open_shift(session, actor, shift_id)
    return draft_handover(session, actor, shift, clock.now())


def get_shift(
    session: Session, actor: Principal, shift_id: uuid.UUID, *, lock: bool = False
) -> Shift:
    actor.require("shifts:keep")
    shift = session.get(Shift, shift_id, with_for_update=lock)
    if shift is None:
        raise NotFound("No such shift.")
    return shift


def open_shift_of(session: Session, actor: Principal) -> Shift | None:
    """The actor's open shift, if any."""
    actor.require("shifts:keep")
    return session.scalars(select(Shift).where(Shift.open_key == actor.username)).first()


def list_shifts(session: Session, actor: Principal, limit: int, offset: int) -> list[Shift]:
    """Shifts, newest first."""
    actor.require("shifts:keep")
    query = select(Shift).order_by(Shift.opened_at.desc(), Shift.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def log_of(session: Session, shift_id: uuid.UUID) -> list[ShiftLogEntry]:
    query = select(ShiftLogEntry).where(ShiftLogEntry.shift_id == shift_id)
    return list(session.scalars(query.order_by(ShiftLogEntry.id)))


def draft_handover(session: Session, actor: Principal, shift: Shift, now: datetime) -> Handover:
    """What is open in the actor's area at `now`: alarms, incidents, late steps, overdue
    directives, with the shift's log book."""
    return Handover(
        at=now,
        alarms=_alarms(session, actor),
        incidents=[
            HandoverItem(
                kind="incident",
                id=str(incident.id),
                title=incident.title,
                detail=IncidentStatus(incident.status).label,
                since=incident.opened_at,
            )
            for incident in session.scalars(
                select(Incident)
                .where(incidents_in_sight(actor), Incident.status.in_(OPEN_STATUSES))
                .order_by(Incident.opened_at)
                .limit(MAX_ITEMS)
            )
        ],
        overdue_steps=_late_steps(session, actor, now),
        overdue_directives=[
            HandoverItem(
                kind="directive",
                id=str(directive.id),
                title=directive.title,
                detail=get_org_unit(session, actor, target.org_unit_id).name,
                since=directive.deadline,
            )
            for directive, target in overdue_parts(session, actor, now)[:MAX_ITEMS]
        ],
        log=[
            f"{as_utc(entry.at):%Y-%m-%d %H:%M} UTC {entry.actor}: {entry.text}"
            for entry in log_of(session, shift.id)
        ],
    )


def _alarms(session: Session, actor: Principal) -> list[HandoverItem]:
    if not actor.can("alarms:read"):
        return []
    alarms = session.scalars(alarms_query(actor, "open").limit(MAX_ITEMS))
    return [
        HandoverItem(
            kind="alarm",
            id=str(alarm.id),
            title=alarm.rule_name,
            detail=f"{alarm.severity}, {alarm.state}: {alarm.reason}",
            since=alarm.raised_at,
        )
        for alarm in alarms
    ]


def _late_steps(session: Session, actor: Principal, now: datetime) -> list[HandoverItem]:
    rows = session.execute(
        select(IncidentStep, Incident.title)
        .join(Incident, Incident.id == IncidentStep.incident_id)
        .where(
            incidents_in_sight(actor),
            Incident.status.in_(OPEN_STATUSES),
            IncidentStep.state.not_in(FINISHED_STEPS),
            IncidentStep.due_at < now,
        )
        .order_by(IncidentStep.due_at, IncidentStep.position)
        .limit(MAX_ITEMS)
    )
    return [
        HandoverItem(
            kind="step",
            id=str(step.id),
            title=f"{title} — bước {step.position}",
            detail=f"{StepState(step.state).label}: {step.text}",
            since=step.due_at,
        )
        for step, title in rows
    ]


def _own_open_shift(session: Session, actor: Principal, shift_id: uuid.UUID) -> Shift:
    shift = get_shift(session, actor, shift_id, lock=True)
    if shift.operator != actor.username:
        raise Forbidden("This is another operator's shift.")
    if shift.closed_at is not None:
        raise Conflict("This shift is closed.")
    return shift


def _audit(session: Session, clock: Clock, actor: Principal, action: str, shift: Shift) -> None:
    audit.record(
        session,
        clock,
        actor.username,
        action,
        object_type="shift",
        object_id=shift.id,
        detail={"operator": shift.operator},
    )
