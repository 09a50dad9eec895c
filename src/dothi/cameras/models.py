"""Tables of cameras: the ward recorders (NVRs), the cameras with their geometry, sources and
analytics settings, and the changes of each camera's health.

A camera's credentials are stored beside its URLs and never leave the server: the snapshot
proxy and the analytics worker use them, the API answers without them. Health is kept as
changes of state (online, degraded, offline): availability over any period is read from
them. Analytics workers share the cameras by leases (`claimed_by` until `claimed_until`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dothi.core.ids import new_id
from dothi.db.base import Base, BigKey, JSONDoc


class Health(StrEnum):
    """What the last probes found of a camera."""

    UNKNOWN = "unknown"
    ONLINE = "online"
    DEGRADED = "degraded"  # answers, but slowly or with errors
    OFFLINE = "offline"


class Recorder(Base):
    """A network video recorder; each ward has its own."""

    __tablename__ = "camera_recorders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admin_units.id"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(200))  # host or URL of its console


class Camera(Base):
    """A camera: where it is and looks, what it is for, where its pictures come from."""

    __tablename__ = "cameras"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("admin_units.id"), index=True
    )
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    heading: Mapped[float] = mapped_column(Float)  # degrees clockwise from north
    field_of_view: Mapped[float] = mapped_column(Float)  # degrees
    range_m: Mapped[float] = mapped_column(Float)
    purposes: Mapped[list[str]] = mapped_column(JSONDoc)  # schemas.Purpose
    recorder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("camera_recorders.id", ondelete="SET NULL"), index=True
    )
    stream_url: Mapped[str | None] = mapped_column(String(500))
    snapshot_url: Mapped[str | None] = mapped_column(String(500))
    username: Mapped[str | None] = mapped_column(String(100))
    password: Mapped[str | None] = mapped_column(String(200))  # a secret: never sent out
    # The analytics worker's settings (rate, lines, zones, rules); {} when not analysed.
    analytics: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True)
    health: Mapped[str] = mapped_column(String(10), default=Health.UNKNOWN)
    health_since: Mapped[datetime | None]
    last_probe_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(default=0)  # probes failed in a row
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class HealthChange(Base):
    """A camera's health from `at` on, until its next change."""

    __tablename__ = "camera_health_changes"
    __table_args__ = (Index("ix_camera_health_changes_camera_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    camera_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    health: Mapped[str] = mapped_column(String(10))
