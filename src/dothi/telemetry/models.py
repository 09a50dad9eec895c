"""Tables of telemetry: context entities, their observed attributes, observations, rollups and
the hours still to fold into them, dead letters, NGSI-LD subscriptions with their outbox, and
commands sent to devices.

An observed attribute of an entity is a time series: `entity_attributes` holds one
row per (entity, attribute) with its latest value, and `observations` refers to it by
a small integer, so the biggest table stays narrow. On PostgreSQL `observations` is
partitioned by month of `observed_at` (see `partitions.py`); on SQLite it is a
WITHOUT ROWID table clustered on its key, so the key is the only B-tree to update.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dothi.core.ids import new_id
from dothi.db.base import Base, BigKey

SeriesKey = BigKey
"""The key of a series (an observed attribute): small, in the biggest table's every row."""

TEXT_VALUE = 200
"""Longest text value of an observation (a status word, not a document)."""


class Entity(Base):
    """A thing with a context: a sensor station, a streetlight, a waste container…"""

    __tablename__ = "entities"

    # urn:ngsi-ld:<Type>:<local id>
    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admin_units.id"), index=True
    )
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float, index=True)
    # Attributes that are not time series (name, address, relationships, the
    # location as GeoJSON), in NGSI-LD normalized form.
    properties: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class EntityAttribute(Base):
    """One observed attribute of an entity (a time series) and its latest value."""

    __tablename__ = "entity_attributes"
    __table_args__ = (UniqueConstraint("entity_id", "name"),)

    id: Mapped[int] = mapped_column(SeriesKey, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str | None] = mapped_column(String(16))
    observed_at: Mapped[datetime | None]
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(String(TEXT_VALUE))


class Observation(Base):
    """One value of one attribute at one time; (attribute, time) is unique: ingest is idempotent."""

    __tablename__ = "observations"
    __table_args__ = {  # noqa: RUF012 (SQLAlchemy's own convention)
        "sqlite_with_rowid": False,
        "postgresql_partition_by": "RANGE (observed_at)",
    }

    attribute_id: Mapped[int] = mapped_column(SeriesKey, primary_key=True)
    observed_at: Mapped[datetime] = mapped_column(primary_key=True)
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(String(TEXT_VALUE))


class HourlyRollup(Base):
    """Aggregates of the numeric observations of an attribute in one UTC hour."""

    __tablename__ = "observation_rollups"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    attribute_id: Mapped[int] = mapped_column(SeriesKey, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int]
    total: Mapped[float] = mapped_column(Float)
    minimum: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float] = mapped_column(Float)
    last: Mapped[float] = mapped_column(Float)
    last_at: Mapped[datetime]


class RollupMark(Base):
    """An hour that received observations since its rollups were last folded.

    Ingest writes one per hour and batch instead of updating the rollups on the hot
    path; `rollups.fold_marked` recomputes the marked hours and removes their marks.
    """

    __tablename__ = "rollup_marks"

    id: Mapped[int] = mapped_column(SeriesKey, primary_key=True, autoincrement=True)
    hour: Mapped[datetime] = mapped_column(index=True)


class DeadLetter(Base):
    """A message the pipeline refused, kept as it came with the reason: nothing is dropped."""

    __tablename__ = "dead_letters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(256))
    topic: Mapped[str | None] = mapped_column(String(400))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class Subscription(Base):
    """An NGSI-LD subscription: whom to notify of which entity changes, and how it went."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    # The subscription as NGSI-LD describes it (entities, watchedAttributes, q, notification…).
    document: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime | None]
    throttling: Mapped[int] = mapped_column(default=0)
    times_sent: Mapped[int] = mapped_column(default=0)
    last_notification_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]


class SubscriptionNotification(Base):
    """The outbox: a notification to POST, retried until it is delivered or given up."""

    __tablename__ = "subscription_notifications"
    __table_args__ = (Index("ix_subscription_notifications_due", "sent_at", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class DeviceCommand(Base):
    """A command sent to a device over MQTT (e.g. dim a streetlight), and who sent it."""

    __tablename__ = "device_commands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]]
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="pending")
