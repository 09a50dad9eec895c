"""The steps of an incident's SOP: started, dispatched to units, acknowledged, done or skipped
with a reason; late steps escalate to the duty leader and are reminded, like alarms.

A step dispatched to a unit is that unit's: its people act on it, and coordinators
(`incidents:manage`) of the incident's area on their behalf. Anyone else gets 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.accounts.orgunits import get_org_unit, list_org_units
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import OrgUnitQuery
from dothi.core.clock import Clock, as_utc
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dothi.incidents import sops, timeline
from dothi.incidents.access import managed_incident, ward_path
from dothi.incidents.models import Incident, IncidentStep
from dothi.incidents.timeline import Event
from dothi.incidents.vocab import FINISHED_STEPS, OPEN_STATUSES, IncidentStatus, StepState

REMIND_EVERY = timedelta(minutes=10)
"""How often an escalated step that is still late is reminded."""
ESCALATOR = "sop"
"""Who escalates late steps, in the timeline and the audit log."""


@dataclass(frozen=True, slots=True)
class StepChange:
    """A timed change of a step: `escalated` or `reminded`."""

    step_id: uuid.UUID
    incident_id: uuid.UUID
    kind: str
    at: datetime


def start_sop(
    session: Session, actor: str, incident: Incident, code: str, clock: Clock
) -> list[IncidentStep]:
    """Create the steps of SOP `code` for the incident, due from now; the IOC's own steps
    (a role, no unit) are dispatched to the IOC at once."""
    if incident.sop_code is not None:
        raise Conflict(f"This incident follows the SOP {incident.sop_code!r} already.")
    template, now = sops.sop(code), clock.now()
    incident.sop_code = code
    steps = [
        IncidentStep(
            incident_id=incident.id,
            position=position,
            text=step.text,
            unit_kind=step.unit_kind,
            role=step.role,
            target_minutes=step.minutes,
            due_at=now + timedelta(minutes=step.minutes),
            state=StepState.DISPATCHED if step.role else StepState.PENDING,
            dispatched_at=now if step.role else None,
            escalation_level=0,
            reminders=0,
        )
        for position, step in enumerate(template.steps, start=1)
    ]
    session.add_all(steps)
    session.flush()
    event = Event("sop_started", template.name, detail={"sop": code, "steps": len(steps)})
    timeline.record(session, clock, actor, incident, event, incident.admin_unit_id)
    return steps


def start_on(
    session: Session, actor: Principal, incident_id: uuid.UUID, code: str, clock: Clock
) -> list[IncidentStep]:
    """Start an SOP the operator picked for an incident that follows none yet."""
    incident = managed_incident(session, actor, incident_id)
    return start_sop(session, actor.username, incident, code, clock)


def dispatch(
    session: Session,
    actor: Principal,
    step_id: uuid.UUID,
    org_unit_id: uuid.UUID | None,
    note: str,
    clock: Clock,
) -> IncidentStep:
    """Give a step to a unit of its kind (by default the only one in the incident's ward)."""
    step, incident = _step(session, step_id)
    managed_incident(session, actor, incident.id)
    if step.state in FINISHED_STEPS:
        raise Conflict(f"This step is {step.state} already.")
    if step.unit_kind is None:
        raise InvalidInput("This step is the IOC's own; it is not dispatched to a unit.")
    unit = org_unit_id or _only_unit(session, actor, step.unit_kind, incident.admin_unit_id)
    if get_org_unit(session, actor, unit).kind != step.unit_kind:
        raise InvalidInput(f"This step is for a unit of kind {step.unit_kind}.")
    now = clock.now()
    step.org_unit_id, step.state, step.dispatched_at = unit, StepState.DISPATCHED, now
    step.acknowledged_at = None
    if incident.status == IncidentStatus.NEW:
        incident.status, incident.dispatched_at = IncidentStatus.DISPATCHED, now
    incident.updated_at = now
    _record(session, clock, actor.username, incident, step, "step_dispatched", note)
    return step


def acknowledge(
    session: Session, actor: Principal, step_id: uuid.UUID, note: str, clock: Clock
) -> IncidentStep:
    """The unit has the step: the incident is being handled (đang xử lý)."""
    step, incident = own_step(session, actor, step_id)
    if step.state != StepState.DISPATCHED:
        raise Conflict(f"Only a dispatched step is acknowledged; this one is {step.state}.")
    step.state, step.acknowledged_at = StepState.ACKNOWLEDGED, clock.now()
    _handling(incident, step, clock.now())
    _record(session, clock, actor.username, incident, step, "step_acknowledged", note)
    return step


def finish(
    session: Session, actor: Principal, step_id: uuid.UUID, note: str, clock: Clock
) -> IncidentStep:
    """The step is done (a dispatched step done at once counts as acknowledged then too)."""
    step, incident = own_step(session, actor, step_id)
    if step.state not in (StepState.DISPATCHED, StepState.ACKNOWLEDGED):
        raise Conflict(f"Only a dispatched step is done; this one is {step.state}.")
    now = clock.now()
    step.acknowledged_at = step.acknowledged_at or now
    step.state, step.done_at, step.done_by = StepState.DONE, now, actor.username
    step.next_reminder_at = None
    _handling(incident, step, now)
    _record(session, clock, actor.username, incident, step, "step_done", note)
    return step


def skip(
    session: Session, actor: Principal, step_id: uuid.UUID, reason: str, clock: Clock
) -> IncidentStep:
    """The step is not needed here; the reason is kept."""
    step, incident = own_step(session, actor, step_id)
    if step.state in FINISHED_STEPS:
        raise Conflict(f"This step is {step.state} already.")
    step.state, step.skip_reason, step.done_at = StepState.SKIPPED, reason, clock.now()
    step.done_by, step.next_reminder_at = actor.username, None
    incident.updated_at = clock.now()
    _record(session, clock, actor.username, incident, step, "step_skipped", reason)
    return step


def escalate_due(session: Session, clock: Clock) -> list[StepChange]:
    """Escalate the steps of open incidents that passed their target time, and remind the
    escalated ones that are still late every `REMIND_EVERY`."""
    now = clock.now()
    late = session.scalars(
        select(IncidentStep)
        .join(Incident, Incident.id == IncidentStep.incident_id)
        .where(
            Incident.status.in_(OPEN_STATUSES),
            IncidentStep.state.not_in(FINISHED_STEPS),
            IncidentStep.due_at <= now,
            (IncidentStep.escalation_level == 0) | (IncidentStep.next_reminder_at <= now),
        )
        .order_by(IncidentStep.due_at, IncidentStep.position)
        .with_for_update(of=IncidentStep)
    ).all()
    changes = []
    for step in late:
        kind = "step_escalated" if step.escalation_level == 0 else "step_reminded"
        if step.escalation_level == 0:
            step.escalation_level = 1
        else:
            step.reminders += 1
        step.next_reminder_at = now + REMIND_EVERY
        incident = session.get_one(Incident, step.incident_id)
        minutes = int((now - as_utc(step.due_at)).total_seconds() // 60)
        text = f"Bước {step.position} trễ hạn {minutes} phút: {step.text}"
        _record(session, clock, ESCALATOR, incident, step, kind, text)
        changes.append(StepChange(step.id, incident.id, kind, now))
    return changes


def visible_steps(session: Session, actor: Principal, incident: Incident) -> list[IncidentStep]:
    """The incident's steps the actor may see: all for coordinators, else their unit's."""
    query = select(IncidentStep).where(IncidentStep.incident_id == incident.id)
    if not actor.can("incidents:manage"):
        query = query.where(IncidentStep.org_unit_id == actor.org_unit_id)
    return list(session.scalars(query.order_by(IncidentStep.position)))


def late_counts(
    session: Session, incident_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, int]:
    """How many unfinished steps of each incident are past their target time."""
    if not incident_ids:
        return {}
    query = (
        select(IncidentStep.incident_id, func.count())
        .where(
            IncidentStep.incident_id.in_(incident_ids),
            IncidentStep.state.not_in(FINISHED_STEPS),
            IncidentStep.due_at < now,
        )
        .group_by(IncidentStep.incident_id)
    )
    return dict(session.execute(query).all())


def unit_steps(session: Session, actor: Principal, open_only: bool) -> list[IncidentStep]:
    """The steps dispatched to the actor's unit, soonest due first."""
    actor.require("incidents:read")
    if actor.org_unit_id is None:
        return []
    query = select(IncidentStep).where(IncidentStep.org_unit_id == actor.org_unit_id)
    if open_only:
        query = query.where(IncidentStep.state.not_in(FINISHED_STEPS))
    return list(session.scalars(query.order_by(IncidentStep.due_at, IncidentStep.position)))


def own_step(
    session: Session, actor: Principal, step_id: uuid.UUID
) -> tuple[IncidentStep, Incident]:
    """A step the actor may act on: their unit's, or any of their area's for coordinators."""
    actor.require("incidents:handle")
    step, incident = _step(session, step_id, lock=True)
    if actor.org_unit_id is not None and step.org_unit_id == actor.org_unit_id:
        return step, incident
    if actor.can("incidents:manage") and actor.sees(ward_path(session, incident)):
        return step, incident
    raise Forbidden("This step is another unit's.")


def _step(
    session: Session, step_id: uuid.UUID, *, lock: bool = False
) -> tuple[IncidentStep, Incident]:
    step = session.get(IncidentStep, step_id, with_for_update=lock)
    if step is None:
        raise NotFound("No such step.")
    return step, session.get_one(Incident, step.incident_id)


def _only_unit(session: Session, actor: Principal, kind: str, ward: uuid.UUID) -> uuid.UUID:
    """The one active unit of `kind` working in the ward; InvalidInput when there are none
    or several (then the operator names it)."""
    query = OrgUnitQuery.model_validate({"kind": kind, "ward": ward, "active": True, "limit": 2})
    found = list_org_units(session, actor, query).items
    if len(found) != 1:
        raise InvalidInput(f"Name the unit to dispatch to: {len(found)} units of kind {kind} here.")
    return found[0].id


def _handling(incident: Incident, step: IncidentStep, now: datetime) -> None:
    """A unit took its step: the first acknowledgement, and the incident is in hand (the
    IOC's own steps do not count: they are the IOC's, not a unit's answer)."""
    incident.updated_at = now
    if step.org_unit_id is None:
        return
    incident.acknowledged_at = incident.acknowledged_at or now
    if incident.status in (IncidentStatus.NEW, IncidentStatus.DISPATCHED):
        incident.status = IncidentStatus.IN_PROGRESS
        incident.dispatched_at = incident.dispatched_at or now


def _record(
    session: Session,
    clock: Clock,
    actor: str,
    incident: Incident,
    step: IncidentStep,
    kind: str,
    text: str,
) -> None:
    detail = {"step": step.position, "state": step.state}
    event = Event(kind, text, org_unit_id=step.org_unit_id, detail=detail)
    timeline.record(session, clock, actor, incident, event, incident.admin_unit_id)
