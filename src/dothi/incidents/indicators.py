"""Indicators of how the IOC acts: time to acknowledge and to resolve by incident type,
the share of SOP steps done on time, directives closed on time by unit."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.accounts.units import in_scope
from dothi.core.clock import Clock, as_utc
from dothi.incidents.access import incidents_in_sight
from dothi.incidents.models import Directive, DirectiveTarget, Incident, IncidentStep
from dothi.incidents.schemas import Durations, Indicators, Period, TypeIndicators, UnitIndicators
from dothi.incidents.views import step_is_late, target_is_overdue
from dothi.incidents.vocab import StepState, TargetState


def indicators(session: Session, actor: Principal, period: Period, clock: Clock) -> Indicators:
    """The indicators of incidents opened and directives due in `period`, in the actor's area.

    A step is judged once done, or once past its target time; a skipped step is not
    judged. A unit's part of a directive is judged once closed or past the deadline.
    """
    actor.require("incidents:read")
    now = clock.now()
    incidents = _incidents(session, actor, period)
    steps_by_incident: dict[uuid.UUID, list[IncidentStep]] = defaultdict(list)
    if incidents:
        for step in session.scalars(
            select(IncidentStep).where(IncidentStep.incident_id.in_([i.id for i in incidents]))
        ):
            steps_by_incident[step.incident_id].append(step)
    by_type: dict[str, list[Incident]] = defaultdict(list)
    for incident in incidents:
        by_type[incident.type].append(incident)
    return Indicators(
        since=period.since,
        until=period.until,
        by_type=[
            _of_type(kind, group, steps_by_incident, now) for kind, group in sorted(by_type.items())
        ],
        directives_by_unit=_directives(session, actor, period, now),
    )


def _incidents(session: Session, actor: Principal, period: Period) -> list[Incident]:
    query = select(Incident).where(incidents_in_sight(actor))
    if period.since is not None:
        query = query.where(Incident.opened_at >= period.since)
    if period.until is not None:
        query = query.where(Incident.opened_at < period.until)
    return list(session.scalars(query))


def _of_type(
    kind: str,
    incidents: list[Incident],
    steps_by_incident: dict[uuid.UUID, list[IncidentStep]],
    now: datetime,
) -> TypeIndicators:
    steps = [step for incident in incidents for step in steps_by_incident[incident.id]]
    judged = [
        step
        for step in steps
        if step.state == StepState.DONE
        or (step.state != StepState.SKIPPED and as_utc(step.due_at) < now)
    ]
    on_time = sum(1 for step in judged if not step_is_late(step, now))
    return TypeIndicators(
        type=kind,
        incidents=len(incidents),
        to_acknowledge=_durations([(i.opened_at, i.acknowledged_at) for i in incidents]),
        to_resolve=_durations([(i.opened_at, i.resolved_at) for i in incidents]),
        steps_judged=len(judged),
        steps_on_time=on_time,
        steps_on_time_share=_share(on_time, len(judged)),
    )


def _directives(
    session: Session, actor: Principal, period: Period, now: datetime
) -> list[UnitIndicators]:
    query = (
        select(Directive.deadline, DirectiveTarget)
        .join(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
        .where(in_scope(DirectiveTarget.admin_unit_id, actor))
    )
    if period.since is not None:
        query = query.where(Directive.deadline >= period.since)
    if period.until is not None:
        query = query.where(Directive.deadline < period.until)
    tally: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])  # on time, late
    for deadline, target in session.execute(query):
        judged = target.state == TargetState.CLOSED or as_utc(deadline) < now
        if judged:
            tally[target.org_unit_id][int(target_is_overdue(target, deadline, now))] += 1
    return [
        UnitIndicators(
            org_unit_id=unit,
            directives=on_time + late,
            on_time=on_time,
            late=late,
            on_time_share=_share(on_time, on_time + late),
        )
        for unit, (on_time, late) in sorted(tally.items(), key=lambda item: str(item[0]))
    ]


def _durations(spans: list[tuple[datetime, datetime | None]]) -> Durations:
    minutes = [
        (as_utc(end) - as_utc(start)).total_seconds() / 60
        for start, end in spans
        if end is not None
    ]
    return Durations(
        count=len(minutes),
        mean_minutes=round(statistics.fmean(minutes), 1) if minutes else None,
        median_minutes=round(statistics.median(minutes), 1) if minutes else None,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
