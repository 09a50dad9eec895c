"""Tables of incidents: incidents and their causes, SOP steps, directives to units, shifts,
and one timeline of everything that happened to an incident or a directive.

Codes of `vocab.py` are stored as short strings; other domains' rows (alarms, reports,
organisational units) are referred to by id or code, and read through their services.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dothi.core.ids import new_id
from dothi.db.base import Base, BigKey, JSONDoc


class Incident(Base):
    """Something in the district the IOC acts on (sự cố), from opened to closed."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    admin_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("admin_units.id"), index=True)
    priority: Mapped[str] = mapped_column(String(10))  # vocab.Priority
    status: Mapped[str] = mapped_column(String(15), index=True)  # vocab.IncidentStatus
    lead_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"))
    helping_unit_ids: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    sop_code: Mapped[str | None] = mapped_column(String(40))
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    # The first time a unit acknowledged its step: the IOC's "time to acknowledge".
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class IncidentLink(Base):
    """One cause of an incident: an alarm id, a report's tracking code, a camera event, a
    message from the city (its text in `note`)."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # vocab.LinkKind
    ref: Mapped[str] = mapped_column(String(300), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime]


class IncidentStep(Base):
    """One step of the SOP an incident follows, dispatched to the unit that must do it."""

    __tablename__ = "incident_steps"
    __table_args__ = (UniqueConstraint("incident_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    # Who the SOP says does it: a kind of organisational unit or a role (the IOC itself).
    unit_kind: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(20))
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    target_minutes: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(15), index=True)  # vocab.StepState
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # Escalation, as for alarms: 1 once the duty leader was told it is late, then reminders.
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    reminders: Mapped[int] = mapped_column(default=0)


class Directive(Base):
    """A leader's instruction (chỉ đạo điều hành) to one or more units, with a deadline."""

    __tablename__ = "directives"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10))  # vocab.Priority
    deadline: Mapped[datetime] = mapped_column(index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]


class DirectiveTarget(Base):
    """One unit's part of a directive: acknowledged, progress reported, closed; reminded
    before the deadline and marked overdue after it."""

    __tablename__ = "directive_targets"

    directive_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), primary_key=True
    )
    org_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    # The unit's place, copied when sent: the leader's board and the audit log are scoped by it.
    admin_unit_id: Mapped[uuid.UUID] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(15), index=True)  # vocab.TargetState
    percent: Mapped[int] = mapped_column(default=0)
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]


class TimelineEntry(Base):
    """One thing that happened to an incident or a directive: a change, a message, files."""

    __tablename__ = "incident_timeline"
    __table_args__ = (
        CheckConstraint("(incident_id IS NULL) <> (directive_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    directive_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    # The org unit concerned (a step's or a directive's unit), so that a unit reads its own.
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # [{"name": "ảnh hiện trường.jpg", "ref": "https://…"}]
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONDoc, default=list)
    detail: Mapped[dict[str, Any]]


class Shift(Base):
    """An operator's shift (ca trực) and the handover note signed by the next operator."""

    __tablename__ = "shifts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    # The operator's username while the shift is open, NULL once closed: one open shift each.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    # What was open at the end of the shift, drafted when it closed.
    handover: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    handover_note: Mapped[str] = mapped_column(Text, default="")
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]


class ShiftLogEntry(Base):
    """A notable event written in the log book of a shift (sổ nhật ký ca trực)."""

    __tablename__ = "shift_log_entries"

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    shift_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shifts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )
