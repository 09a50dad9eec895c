"""Tables of alarms: rules as stored definitions, what each rule remembers about each entity,
alarms with their lifecycle, and the history of every transition.

One alarm is open per (rule, entity): `open_key` holds "rule:entity" while the alarm
is active or acknowledged and NULL once it is cleared, and a unique index on it keeps
two evaluators (two processes) from opening a second one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dothi.core.ids import new_id
from dothi.db.base import Base, BigKey


class AlarmState(StrEnum):
    """Where an alarm is in its life."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class AlarmRule(Base):
    """A rule over live data; its definition is the validated document of `schemas.py`."""

    __tablename__ = "alarm_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    entity_type: Mapped[str] = mapped_column(String(64), index=True)
    definition: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class RuleMemory(Base):
    """What a rule remembers about one entity between evaluations (a pending condition…)."""

    __tablename__ = "alarm_rule_memories"

    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alarm_rules.id", ondelete="CASCADE"), primary_key=True
    )
    entity_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    state: Mapped[dict[str, Any]]
    evaluated_at: Mapped[datetime]


class Alarm(Base):
    """A condition a rule found on an entity, from raised to cleared."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_admin_unit_id_state", "admin_unit_id", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alarm_rules.id", ondelete="SET NULL"), index=True
    )
    rule_code: Mapped[str] = mapped_column(String(64))
    rule_name: Mapped[str] = mapped_column(String(200))
    entity_id: Mapped[str] = mapped_column(String(256), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admin_units.id"), index=True
    )
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10))  # schemas.Severity
    state: Mapped[str] = mapped_column(String(15), index=True)  # AlarmState
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    value: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(64))
    # Escalation: 0 = the operators were told; 1 = the duty leader too. Reminders repeat
    # at `next_reminder_at` until someone acknowledges.
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    reminders: Mapped[int] = mapped_column(default=0)
    flaps: Mapped[int] = mapped_column(default=0)


class AlarmEvent(Base):
    """One transition of an alarm: raised, severity changed, acknowledged, escalated…"""

    __tablename__ = "alarm_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    alarm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alarms.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(500))


class AlarmFeedEntry(Base):
    """A transition as the live feed and the notifier read it, in the order it committed.

    Written in the transaction of the transition, after its audit entry, whose lock
    serialises writers on PostgreSQL: ids are taken in commit order, so a reader that
    remembers the last id it saw (SSE's Last-Event-ID, the notifier) never skips one.
    """

    __tablename__ = "alarm_feed"

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    alarm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alarms.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The alarm as it was after the transition: rule, entity, place, state, value, reason,
    # escalation, and who made the transition with their note.
    document: Mapped[dict[str, Any]]
