"""Leases: analytics workers share the cameras, each camera analysed by one worker at a time.

A worker claims cameras that nobody holds or whose lease ran out, renews its leases well
before they end, and releases them when it stops; a worker that dies loses its cameras
when its leases end. On PostgreSQL concurrent claims skip rows another transaction has
locked (`FOR UPDATE SKIP LOCKED`); on SQLite the single writer serialises them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dothi.cameras.models import Camera


def claim(
    session: Session, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[Camera]:
    """Up to `limit` more active cameras with analytics enabled, leased to `worker`."""
    if limit <= 0:
        return []
    query = (
        select(Camera)
        .where(
            Camera.active.is_(True),
            Camera.stream_url.is_not(None),
            Camera.analytics["enabled"].as_boolean().is_(True),
            or_(Camera.claimed_by.is_(None), Camera.claimed_until < now),
        )
        .order_by(Camera.code)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    cameras = list(session.scalars(query))
    for camera in cameras:
        camera.claimed_by = worker
        camera.claimed_until = now + lease
    session.flush()
    return cameras


def renew(
    session: Session, worker: str, ids: Collection[uuid.UUID], now: datetime, lease: timedelta
) -> set[uuid.UUID]:
    """Extend `worker`'s leases on `ids`; the ids it still holds (a lost one is not renewed)."""
    if not ids:
        return set()
    held = session.scalars(
        update(Camera)
        .where(Camera.id.in_(ids), Camera.claimed_by == worker, Camera.claimed_until >= now)
        .values(claimed_until=now + lease)
        .returning(Camera.id)
    )
    return set(held)


def release(session: Session, worker: str, ids: Collection[uuid.UUID]) -> None:
    """Give up `worker`'s leases on `ids` so that another worker can take them at once."""
    if ids:
        session.execute(
            update(Camera)
            .where(Camera.id.in_(ids), Camera.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None)
        )
