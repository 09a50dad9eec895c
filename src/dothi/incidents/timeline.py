"""The timeline: every change, message and attachment of an incident or a directive, each
also written to the audit log (hash-chained) under the place it concerns."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.core.clock import Clock
from dothi.incidents.models import Directive, Incident, TimelineEntry


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file kept elsewhere: its name and a URL or reference."""

    name: str
    ref: str


@dataclass(frozen=True, slots=True)
class Event:
    """What to write: its kind, text, files, the unit concerned, plain JSON for the audit."""

    kind: str
    text: str = ""
    attachments: Sequence[Attachment] = ()
    org_unit_id: uuid.UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    clock: Clock,
    actor: str,
    subject: Incident | Directive,
    event: Event,
    admin_unit_id: uuid.UUID | None,
) -> TimelineEntry:
    """Write `event` to the subject's timeline and the audit log (`incident.<kind>`…)."""
    is_incident = isinstance(subject, Incident)
    entry = TimelineEntry(
        incident_id=subject.id if is_incident else None,
        directive_id=None if is_incident else subject.id,
        at=clock.now(),
        actor=actor,
        kind=event.kind,
        text=event.text,
        org_unit_id=event.org_unit_id,
        attachments=[{"name": a.name, "ref": a.ref} for a in event.attachments],
        detail=event.detail,
    )
    session.add(entry)
    name = "incident" if is_incident else "directive"
    detail = dict(event.detail)
    if event.org_unit_id is not None:
        detail["org_unit"] = str(event.org_unit_id)
    audit.record(
        session,
        clock,
        actor,
        f"{name}.{event.kind}",
        object_type=name,
        object_id=subject.id,
        admin_unit_id=admin_unit_id,
        detail=detail,
    )
    return entry


def entries_of(
    session: Session,
    *,
    incident_id: uuid.UUID | None = None,
    directive_id: uuid.UUID | None = None,
    units: Collection[uuid.UUID] | None = None,
) -> list[TimelineEntry]:
    """The timeline of one subject, oldest first. Given `units`, only what concerns those
    units and what concerns no unit in particular (a unit reads its own part)."""
    query = select(TimelineEntry).order_by(TimelineEntry.id)
    if incident_id is not None:
        query = query.where(TimelineEntry.incident_id == incident_id)
    if directive_id is not None:
        query = query.where(TimelineEntry.directive_id == directive_id)
    if units is not None:
        query = query.where(
            TimelineEntry.org_unit_id.in_(units) | TimelineEntry.org_unit_id.is_(None)
        )
    return list(session.scalars(query))
