"""The fan-out: each alarm feed entry becomes one outbox row per recipient it concerns.

Entries are read after a cursor, in the order they committed, and the rows written and
the cursor moved in one transaction: a crash leaves both as they were, and a second
run writes nothing twice (the idempotency key is unique: ON CONFLICT DO NOTHING). On
PostgreSQL the cursor row is locked, so two notifiers fan out in turn; SQLite has one
writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dothi.alarms.cap import Reference
from dothi.alarms.delivery_models import (
    AlarmFeedCursor,
    AlarmNotification,
    Channel,
    WebhookFormat,
)
from dothi.alarms.models import AlarmFeedEntry
from dothi.alarms.notices import Notice, Ward, idempotency_key
from dothi.alarms.payloads import email_payload, webhook_payload
from dothi.alarms.recipients import (
    AUDIENCES,
    WebhookTarget,
    emailed,
    load_readers,
    load_webhooks,
    webhook_wants,
)
from dothi.core.clock import Clock, local_date
from dothi.db.engine import Database
from dothi.places.service import get_unit

CURSOR = "notifications"
"""The cursor row of the fan-out (created by the migration at the newest entry)."""
BATCH = 200


@dataclass(frozen=True, slots=True)
class FanOutOptions:
    """What the fan-out needs to know of the deployment."""

    zone: str
    cap_sender: str
    email: bool
    """Whether e-mail is on (an SMTP server is configured): off, no e-mail rows are written."""


def fan_out(database: Database, clock: Clock, options: FanOutOptions, *, batch: int = BATCH) -> int:
    """Write the outbox rows of the next feed entries; returns how many entries were read."""
    if not _news(database):
        return 0  # nothing new: the single SQLite writer is not taken
    with database.write() as session:
        cursor = session.get_one(AlarmFeedCursor, CURSOR, with_for_update=True)
        entries = session.scalars(
            select(AlarmFeedEntry)
            .where(AlarmFeedEntry.id > cursor.last_id)
            .order_by(AlarmFeedEntry.id)
            .limit(batch)
        ).all()
        if not entries:
            return 0
        rows = _rows(session, entries, clock.now(), options)
        if rows:
            postgres = session.get_bind().dialect.name == "postgresql"
            insert = postgresql.insert if postgres else sqlite.insert
            session.execute(insert(AlarmNotification).on_conflict_do_nothing(), rows)
        cursor.last_id = entries[-1].id
        return len(entries)


def _news(database: Database) -> bool:
    with database.read() as session:
        last = session.scalar(select(AlarmFeedCursor.last_id).where(AlarmFeedCursor.name == CURSOR))
        newest = session.scalar(select(func.max(AlarmFeedEntry.id)))
    return newest is not None and newest > (last or 0)


def _rows(
    session: Session, entries: Sequence[AlarmFeedEntry], now: datetime, options: FanOutOptions
) -> list[dict[str, Any]]:
    """The outbox rows of `entries`, their payloads rendered now."""
    wards = _wards(session, {e.admin_unit_id for e in entries if e.admin_unit_id is not None})
    mailed = options.email and any(entry.kind in AUDIENCES for entry in entries)
    readers = load_readers(session) if mailed else []
    hooks = load_webhooks(session, local_date(now, options.zone))
    previous = _previous_messages(session, entries, hooks)
    rows = []
    for entry in entries:
        notice = Notice.of(entry, wards.get(entry.admin_unit_id) if entry.admin_unit_id else None)
        path = notice.ward.path if notice.ward else None
        users = emailed(entry.kind, notice.severity, path, readers)
        if users:
            mail = email_payload(notice, options.zone)
            rows += [_row(entry.id, Channel.EMAIL, user, mail, now) for user in users]
        for hook in hooks:
            if not webhook_wants(hook, entry.kind, notice.severity, entry.admin_unit_id):
                continue
            key = idempotency_key(entry.id, Channel.WEBHOOK, hook.id)
            earlier = previous.get((entry.alarm_id, hook.id))
            body = webhook_payload(
                notice, key, hook.format, options.cap_sender, options.zone, earlier
            )
            previous[(entry.alarm_id, hook.id)] = Reference(key, notice.at)
            rows.append(_row(entry.id, Channel.WEBHOOK, hook.id, body, now))
    return rows


def _row(
    feed_id: int, channel: Channel, recipient: uuid.UUID, payload: dict[str, str], now: datetime
) -> dict[str, Any]:
    return {
        "feed_id": feed_id,
        "channel": channel.value,
        "user_id": recipient if channel == Channel.EMAIL else None,
        "webhook_id": recipient if channel == Channel.WEBHOOK else None,
        "idempotency_key": idempotency_key(feed_id, channel, recipient),
        "payload": payload,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _wards(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Ward]:
    units = [get_unit(session, unit_id) for unit_id in ids]
    return {unit.id: Ward(unit.id, unit.code, unit.name, unit.path) for unit in units}


def _previous_messages(
    session: Session, entries: Sequence[AlarmFeedEntry], hooks: Sequence[WebhookTarget]
) -> dict[tuple[uuid.UUID, uuid.UUID], Reference]:
    """The last CAP message each CAP webhook got about each alarm of `entries`."""
    cap_hooks = [hook.id for hook in hooks if hook.format == WebhookFormat.CAP]
    if not cap_hooks:
        return {}
    rows = session.execute(
        select(
            AlarmFeedEntry.alarm_id,
            AlarmNotification.webhook_id,
            AlarmNotification.idempotency_key,
            AlarmFeedEntry.at,
        )
        .join(AlarmFeedEntry, AlarmFeedEntry.id == AlarmNotification.feed_id)
        .where(
            AlarmNotification.webhook_id.in_(cap_hooks),
            AlarmFeedEntry.alarm_id.in_({entry.alarm_id for entry in entries}),
        )
        .order_by(AlarmFeedEntry.id)
    )
    return {(alarm, hook): Reference(key, at) for alarm, hook, key, at in rows if hook is not None}
