"""Incidents, steps, directives and timelines as they are shown (the `schemas` outputs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from dothi.core.clock import as_utc
from dothi.incidents.models import (
    Directive,
    DirectiveTarget,
    Incident,
    IncidentLink,
    IncidentStep,
    TimelineEntry,
)
from dothi.incidents.schemas import (
    DirectiveDetail,
    DirectiveOut,
    IncidentDetail,
    IncidentOut,
    Label,
    LinkOut,
    StepOut,
    TargetOut,
    TimelineOut,
)
from dothi.incidents.vocab import (
    IncidentStatus,
    Priority,
    StepState,
    TargetState,
)


def label(value: StrEnum) -> Label:
    """A code with its Vietnamese label."""
    return Label(code=value.value, label=getattr(value, "label", value.value))


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        type=incident.type,
        title=incident.title,
        description=incident.description,
        lon=incident.lon,
        lat=incident.lat,
        ward_id=incident.admin_unit_id,
        priority=label(Priority(incident.priority)),
        status=label(IncidentStatus(incident.status)),
        lead_unit_id=incident.lead_unit_id,
        helping_unit_ids=[uuid.UUID(unit) for unit in incident.helping_unit_ids],
        sop=incident.sop_code,
        opened_by=incident.opened_by,
        opened_at=incident.opened_at,
        updated_at=incident.updated_at,
        dispatched_at=incident.dispatched_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
    )


def incidents_out(incidents: Sequence[Incident]) -> list[IncidentOut]:
    return [incident_out(incident) for incident in incidents]


def step_is_late(step: IncidentStep, now: datetime) -> bool:
    """Finished after its target time, or unfinished past it."""
    end = step.done_at if step.state == StepState.DONE else None
    if step.state == StepState.SKIPPED:
        return False
    return as_utc(end or now) > as_utc(step.due_at)


def step_out(step: IncidentStep, now: datetime) -> StepOut:
    return StepOut(
        id=step.id,
        position=step.position,
        text=step.text,
        unit_kind=step.unit_kind,
        role=step.role,
        org_unit_id=step.org_unit_id,
        target_minutes=step.target_minutes,
        due_at=step.due_at,
        state=label(StepState(step.state)),
        dispatched_at=step.dispatched_at,
        acknowledged_at=step.acknowledged_at,
        done_at=step.done_at,
        done_by=step.done_by,
        skip_reason=step.skip_reason,
        escalation_level=step.escalation_level,
        reminders=step.reminders,
        late=step_is_late(step, now),
    )


def timeline_out(entries: Sequence[TimelineEntry]) -> list[TimelineOut]:
    return [TimelineOut.model_validate(entry) for entry in entries]


def incident_detail(
    incident: Incident,
    links: Sequence[IncidentLink],
    steps: Sequence[IncidentStep],
    entries: Sequence[TimelineEntry],
    now: datetime,
) -> IncidentDetail:
    return IncidentDetail(
        **incident_out(incident).model_dump(),
        links=[LinkOut.model_validate(link) for link in links],
        steps=[step_out(step, now) for step in steps],
        timeline=timeline_out(entries),
    )


def target_is_overdue(target: DirectiveTarget, deadline: datetime, now: datetime) -> bool:
    """Not closed by the deadline (closed late, or still open after it)."""
    end = target.closed_at if target.state == TargetState.CLOSED else None
    return as_utc(end or now) > as_utc(deadline)


def target_out(target: DirectiveTarget, deadline: datetime, now: datetime) -> TargetOut:
    return TargetOut(
        org_unit_id=target.org_unit_id,
        state=label(TargetState(target.state)),
        percent=target.percent,
        acknowledged_at=target.acknowledged_at,
        closed_at=target.closed_at,
        reminded_at=target.reminded_at,
        overdue_at=target.overdue_at,
        overdue=target_is_overdue(target, deadline, now),
    )


def directive_out(
    directive: Directive, targets: Sequence[DirectiveTarget], now: datetime
) -> DirectiveOut:
    return DirectiveOut(
        id=directive.id,
        title=directive.title,
        content=directive.content,
        priority=label(Priority(directive.priority)),
        deadline=directive.deadline,
        incident_id=directive.incident_id,
        issued_by=directive.issued_by,
        issued_at=directive.issued_at,
        targets=[target_out(target, directive.deadline, now) for target in targets],
    )


def directive_detail(
    directive: Directive,
    targets: Sequence[DirectiveTarget],
    entries: Sequence[TimelineEntry],
    now: datetime,
) -> DirectiveDetail:
    return DirectiveDetail(
        **directive_out(directive, targets, now).model_dump(), timeline=timeline_out(entries)
    )
