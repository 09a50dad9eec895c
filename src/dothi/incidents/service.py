"""Incidents: opened by hand, from an alarm or from a citizen report in one call; changed,
moved through their statuses, linked to their causes and written to. Functions take a
Session and never commit; every change goes to the timeline and the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Page
from dothi.accounts.units import within_unit
from dothi.alarms.views import alarm_with_history
from dothi.core.clock import Clock, local_date
from dothi.errors import Conflict, InvalidInput
from dothi.incidents import sops, steps, timeline, views
from dothi.incidents.access import (
    check_units,
    incidents_in_sight,
    managed_incident,
    open_incident_of,
    own_units,
    visible_incident,
    ward_of_point,
)
from dothi.incidents.models import Incident, IncidentLink, IncidentStep
from dothi.incidents.schemas import (
    FromAlarmIn,
    FromReportIn,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    IncidentQuery,
    IncidentUpdate,
    LinkIn,
    MessageIn,
    StatusIn,
)
from dothi.incidents.timeline import Attachment, Event
from dothi.incidents.views import incidents_out
from dothi.incidents.vocab import (
    FINISHED_STEPS,
    OPEN_STATUSES,
    IncidentStatus,
    LinkKind,
    Priority,
)
from dothi.reports.service import get_report

FROM_SEVERITY: Mapping[str, Priority] = {"critical": Priority.CRITICAL, "warning": Priority.HIGH}
"""The priority of an incident opened from an alarm of each severity (else normal)."""

MANUAL: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.DISPATCHED: frozenset({IncidentStatus.NEW}),
    IncidentStatus.IN_PROGRESS: frozenset({IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED}),
    IncidentStatus.RESOLVED: frozenset(
        {IncidentStatus.NEW, IncidentStatus.DISPATCHED, IncidentStatus.IN_PROGRESS}
    ),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.NEW, IncidentStatus.RESOLVED}),
}
"""Status changes made by hand: target <- allowed sources. Dispatching and acknowledging
steps move new → dispatched → in progress by themselves."""


@dataclass(frozen=True, slots=True)
class _Draft:
    """What an opening has worked out: the incident's fields and its first causes."""

    type: str
    title: str
    description: str
    lon: float
    lat: float
    admin_unit_id: uuid.UUID
    priority: Priority
    links: tuple[tuple[LinkKind, str, str], ...]


def open_incident(
    session: Session, actor: Principal, data: IncidentIn, clock: Clock, zone: str
) -> Incident:
    """Open an incident at a point of the actor's area, e.g. from a message of the city."""
    actor.require("incidents:manage")
    ward = ward_of_point(session, actor, data.lon, data.lat, local_date(clock.now(), zone))
    links = ((LinkKind.MESSAGE, "city", data.message),) if data.message else ()
    draft = _Draft(
        data.type,
        data.title,
        data.description,
        data.lon,
        data.lat,
        ward,
        data.priority or Priority.NORMAL,
        links,
    )
    return _open(session, actor, draft, data, clock)


def open_from_alarm(
    session: Session, actor: Principal, data: FromAlarmIn, clock: Clock
) -> Incident:
    """Open an incident from an alarm of the actor's area: place, ward and title copied."""
    actor.require("incidents:manage")
    alarm, _ = alarm_with_history(session, actor, data.alarm_id)
    if alarm.lon is None or alarm.lat is None or alarm.admin_unit_id is None:
        raise InvalidInput("This alarm has no place; open the incident by hand.")
    kind = data.type or sops.type_of_alarm(alarm.rule_code)
    if kind is None:
        raise InvalidInput(f"Say the incident type: no SOP handles alarms of {alarm.rule_code}.")
    draft = _Draft(
        kind,
        data.title or alarm.rule_name,
        alarm.reason,
        alarm.lon,
        alarm.lat,
        alarm.admin_unit_id,
        data.priority or FROM_SEVERITY.get(alarm.severity, Priority.NORMAL),
        ((LinkKind.ALARM, str(alarm.id), alarm.reason),),
    )
    return _open(session, actor, draft, data, clock)


def open_from_report(
    session: Session, actor: Principal, data: FromReportIn, clock: Clock
) -> Incident:
    """Open an incident from a citizen report the actor sees, by its tracking code."""
    actor.require("incidents:manage")
    report = get_report(session, actor, data.tracking_code, clock)
    if report.admin_unit_id is None:
        raise InvalidInput("This report has no ward; open the incident by hand.")
    kind = data.type or sops.type_of_report(report.category)
    if kind is None:
        raise InvalidInput(f"Say the incident type: no SOP handles reports of {report.category}.")
    draft = _Draft(
        kind,
        data.title or f"{report.category_name}: {report.description}"[:200],
        report.description,
        report.lon,
        report.lat,
        report.admin_unit_id,
        data.priority or (Priority.HIGH if report.urgency == "urgent" else Priority.NORMAL),
        ((LinkKind.REPORT, report.tracking_code, report.category_name),),
    )
    return _open(session, actor, draft, data, clock)


def _open(
    session: Session,
    actor: Principal,
    draft: _Draft,
    data: IncidentIn | FromAlarmIn | FromReportIn,
    clock: Clock,
) -> Incident:
    sops.sop(draft.type)
    check_units(session, [*filter(None, [data.lead_unit_id]), *data.helping_unit_ids])
    for kind, ref, _ in draft.links:
        taken = open_incident_of(session, kind, ref) if kind != LinkKind.MESSAGE else None
        if taken is not None:
            raise Conflict(f"This {kind} belongs to the open incident {taken} already.")
    now = clock.now()
    incident = Incident(
        type=draft.type,
        title=draft.title,
        description=draft.description,
        lon=draft.lon,
        lat=draft.lat,
        admin_unit_id=draft.admin_unit_id,
        priority=draft.priority,
        status=IncidentStatus.NEW,
        lead_unit_id=data.lead_unit_id,
        helping_unit_ids=[str(unit) for unit in data.helping_unit_ids],
        opened_by=actor.username,
        opened_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    detail = {"type": draft.type, "priority": draft.priority.value}
    timeline.record(
        session,
        clock,
        actor.username,
        incident,
        Event("opened", draft.title, detail=detail),
        incident.admin_unit_id,
    )
    for kind, ref, note in draft.links:
        _link(session, actor.username, incident, kind, ref, note, clock)
    if data.start_sop:
        steps.start_sop(session, actor.username, incident, data.sop or draft.type, clock)
    return incident


def list_incidents(session: Session, actor: Principal, query: IncidentQuery) -> Page[IncidentOut]:
    """The incidents of the actor's area, newest first (`open`: not resolved yet)."""
    actor.require("incidents:read")
    stmt: Select[Incident] = select(Incident).where(incidents_in_sight(actor))
    if query.status == "open":
        stmt = stmt.where(Incident.status.in_(OPEN_STATUSES))
    elif query.status != "all":
        stmt = stmt.where(Incident.status == query.status)
    if query.type is not None:
        stmt = stmt.where(Incident.type == query.type)
    if query.ward is not None:
        stmt = stmt.where(within_unit(session, Incident.admin_unit_id, query.ward))
    stmt = stmt.order_by(Incident.opened_at.desc(), Incident.id)
    return paginate(session, stmt, query, incidents_out)


def open_in_wards(session: Session, ward_ids: Collection[uuid.UUID]) -> list[IncidentOut]:
    """The open incidents placed in these wards (a dashboard's area), newest first."""
    query = (
        select(Incident)
        .where(Incident.admin_unit_id.in_(ward_ids), Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.opened_at.desc(), Incident.id)
    )
    return incidents_out(session.scalars(query).all())


def incident_detail(
    session: Session, actor: Principal, incident_id: uuid.UUID, clock: Clock
) -> IncidentDetail:
    """One incident with its causes, the steps and the timeline the actor may see."""
    incident = visible_incident(session, actor, incident_id)
    links = session.scalars(
        select(IncidentLink)
        .where(IncidentLink.incident_id == incident.id)
        .order_by(IncidentLink.linked_at, IncidentLink.id)
    ).all()
    entries = timeline.entries_of(
        session, incident_id=incident.id, units=own_units(actor, "incidents:manage")
    )
    shown = steps.visible_steps(session, actor, incident)
    return views.incident_detail(incident, links, shown, entries, clock.now())


def update_incident(
    session: Session, actor: Principal, incident_id: uuid.UUID, data: IncidentUpdate, clock: Clock
) -> Incident:
    """Change the fields given: title, description, priority, the unit in charge, helpers."""
    incident = managed_incident(session, actor, incident_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    check_units(session, [*filter(None, [data.lead_unit_id]), *(data.helping_unit_ids or [])])
    if "helping_unit_ids" in changes:
        changes["helping_unit_ids"] = [str(unit) for unit in changes["helping_unit_ids"]]
    if not changes:
        return incident
    for name, value in changes.items():
        setattr(incident, name, value)
    incident.updated_at = clock.now()
    event = Event("changed", detail={"changed": sorted(changes)})
    timeline.record(session, clock, actor.username, incident, event, incident.admin_unit_id)
    return incident


def change_status(
    session: Session, actor: Principal, incident_id: uuid.UUID, data: StatusIn, clock: Clock
) -> Incident:
    """Move an incident by hand: resolved once no step is open, closed, reopened."""
    incident = managed_incident(session, actor, incident_id)
    current, wanted = IncidentStatus(incident.status), data.status
    if current not in MANUAL.get(wanted, frozenset()):
        raise Conflict(f"An incident that is {current.label} cannot become {wanted.label}.")
    if wanted == IncidentStatus.RESOLVED:
        _require_steps_finished(session, incident)
    if wanted == IncidentStatus.CLOSED and current == IncidentStatus.NEW and not data.note:
        raise InvalidInput("Say why a new incident is closed without being handled.")
    now = clock.now()
    incident.status, incident.updated_at = wanted, now
    if wanted == IncidentStatus.DISPATCHED:
        incident.dispatched_at = now
    elif wanted == IncidentStatus.RESOLVED:
        incident.resolved_at = now
    elif wanted == IncidentStatus.CLOSED:
        incident.closed_at = now
    detail = {"from": current.value, "to": wanted.value}
    event = Event("status", data.note or wanted.label, detail=detail)
    timeline.record(session, clock, actor.username, incident, event, incident.admin_unit_id)
    return incident


def add_link(
    session: Session, actor: Principal, incident_id: uuid.UUID, data: LinkIn, clock: Clock
) -> IncidentLink:
    """Merge a cause in: an alarm or a report the actor sees, a camera event, a message."""
    incident = managed_incident(session, actor, incident_id)
    ref = data.ref
    if data.kind == LinkKind.ALARM:
        ref = str(alarm_with_history(session, actor, _uuid(ref))[0].id)
    elif data.kind == LinkKind.REPORT:
        ref = get_report(session, actor, ref, clock).tracking_code
    if data.kind != LinkKind.MESSAGE:
        taken = open_incident_of(session, data.kind, ref)
        if taken is not None:
            raise Conflict(f"This {data.kind} belongs to the open incident {taken} already.")
    return _link(session, actor.username, incident, data.kind, ref, data.note, clock)


def add_message(
    session: Session, actor: Principal, incident_id: uuid.UUID, data: MessageIn, clock: Clock
) -> None:
    """A message and files on the incident's timeline, from a coordinator or a unit on it."""
    actor.require("incidents:handle")
    incident = visible_incident(session, actor, incident_id, lock=True)
    if not data.text and not data.attachments:
        raise InvalidInput("Write a message or attach a file.")
    files = [Attachment(a.name, a.ref) for a in data.attachments]
    unit = None if actor.can("incidents:manage") else actor.org_unit_id
    event = Event("message", data.text, files, unit, {"attachments": len(files)})
    timeline.record(session, clock, actor.username, incident, event, incident.admin_unit_id)
    incident.updated_at = clock.now()


def _link(
    session: Session,
    actor: str,
    incident: Incident,
    kind: LinkKind,
    ref: str,
    note: str,
    clock: Clock,
) -> IncidentLink:
    exists = select(IncidentLink.id).where(
        IncidentLink.incident_id == incident.id, IncidentLink.kind == kind, IncidentLink.ref == ref
    )
    if session.scalar(exists) is not None:
        raise Conflict(f"This {kind} is linked to the incident already.")
    link = IncidentLink(
        incident_id=incident.id,
        kind=kind,
        ref=ref,
        note=note,
        linked_by=actor,
        linked_at=clock.now(),
    )
    session.add(link)
    session.flush()
    event = Event("linked", note, detail={"kind": kind.value, "ref": ref})
    timeline.record(session, clock, actor, incident, event, incident.admin_unit_id)
    return link


def _require_steps_finished(session: Session, incident: Incident) -> None:
    open_steps = session.scalars(
        select(IncidentStep.position).where(
            IncidentStep.incident_id == incident.id, IncidentStep.state.not_in(FINISHED_STEPS)
        )
    ).all()
    if open_steps:
        numbers = ", ".join(map(str, sorted(open_steps)))
        raise Conflict(f"Steps {numbers} are still open: do them or skip them with a reason.")


def _uuid(ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        raise InvalidInput("An alarm is linked by its id (a UUID).") from None
