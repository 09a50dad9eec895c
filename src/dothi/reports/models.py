"""Tables of citizen reports: categories, routing rules, states, reports and their history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dothi.accounts.privacy import personal
from dothi.core.ids import new_id
from dothi.db.base import Base, JSONDoc


class StateKind(StrEnum):
    """What a state means for the citizen: still open, closed unfixed, or fixed."""

    OPEN = "open"
    CLOSED = "closed"
    FIXED = "fixed"


class Urgency(StrEnum):
    """How fast a report must be resolved (khẩn / thường)."""

    URGENT = "urgent"
    NORMAL = "normal"


def _str_enum(enum: type[StrEnum]) -> Enum:
    """A portable VARCHAR column holding the enum's values (no native PostgreSQL type)."""
    return Enum(enum, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Category(Base):
    """An Open311 service: what kind of problem, who handles it, how fast."""

    __tablename__ = "report_categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    # The kind of organisational unit that handles it when no rule names one (OrgUnitKind).
    unit_kind: Mapped[str] = mapped_column(String(20))
    # Open311 attributes: the extra questions asked when reporting.
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    urgent_hours: Mapped[float] = mapped_column(Float)
    normal_hours: Mapped[float] = mapped_column(Float)
    public: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class Route(Base):
    """(ward or any, category) -> the organisational unit that handles it (FixMyStreet's bodies)."""

    __tablename__ = "report_routes"
    __table_args__ = (UniqueConstraint("category_id", "admin_unit_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_categories.id"))
    # None: every place without a rule of its own.
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admin_units.id"))
    org_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"), index=True)


class State(Base):
    """A step of the workflow; built-in ones and those an administrator defines."""

    __tablename__ = "report_states"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[StateKind] = mapped_column(_str_enum(StateKind))
    # mySociety's extended Open311 status (upper case), e.g. IN_PROGRESS.
    open311_status: Mapped[str] = mapped_column(String(40))
    reason_required: Mapped[bool] = mapped_column(default=False)
    builtin: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class ResponseTemplate(Base):
    """A ready answer an officer picks for a category (or any) and a state (or any)."""

    __tablename__ = "report_responses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # None: every category, every state.
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report_categories.id"))
    state: Mapped[str | None] = mapped_column(ForeignKey("report_states.code"))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)


class Report(Base):
    """A citizen's field report (phản ánh hiện trường)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_org_unit_id_due_at", "org_unit_id", "due_at"),
        Index("ix_reports_admin_unit_id_state", "admin_unit_id", "state"),  # open ones per ward
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tracking_code: Mapped[str] = mapped_column(String(12), unique=True)
    # SHA-256 of the secret the citizen got back: it lets them rate, reopen and follow.
    token_hash: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_categories.id"), index=True)
    state: Mapped[str] = mapped_column(ForeignKey("report_states.code"), index=True)
    urgency: Mapped[Urgency] = mapped_column(_str_enum(Urgency))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    # Code, category, description and address folded (no case, no diacritics) for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admin_units.id"), index=True
    )
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"))
    reporter_name: Mapped[str | None] = mapped_column(String(200), info=personal("name"))
    reporter_phone: Mapped[str | None] = mapped_column(String(20), info=personal("phone"))
    reporter_email: Mapped[str | None] = mapped_column(String(254), info=personal("email"))
    show_name: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    media_url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(String(64))
    public: Mapped[bool]
    hidden: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    accept_due_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the report first reached a fixed or closed state, for the time-to-resolve figure.
    resolved_at: Mapped[datetime | None]
    # Whether it was closed by its deadline the last time it closed.
    on_time: Mapped[bool | None]


class ReportUpdate(Base):
    """One step of a report's history: a change of state, unit or category, or a note."""

    __tablename__ = "report_updates"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"))
    # The step's place in the report's history: steps made in the same instant stay ordered.
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    state: Mapped[str | None] = mapped_column(ForeignKey("report_states.code"))
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # Internal notes stay with the officers; public ones reach the citizen and Open311.
    public: Mapped[bool] = mapped_column(default=True)


class Rating(Base):
    """The citizen's verdict on an answer: 1-5 and a comment."""

    __tablename__ = "report_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[datetime]
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")


class Follower(Base):
    """Someone who wants the updates of a report."""

    __tablename__ = "report_followers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    contact: Mapped[str] = mapped_column(String(254), info=personal("email"))
    created_at: Mapped[datetime]


class Photo(Base):
    """A photo of a report or of an update: re-encoded without EXIF, with a thumbnail."""

    __tablename__ = "report_photos"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    update_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report_updates.id"))
    content_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class Moderation(Base):
    """A moderator's act on a report; only moderators see these."""

    __tablename__ = "report_moderations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
