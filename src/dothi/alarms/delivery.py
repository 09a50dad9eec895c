"""Delivering the outbox of alarm notifications: claim, send, record; retry with backoff.

Each round claims due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several notifiers take different rows) and sends them one by one; each row is marked
sent in a transaction of its own right after its receiver took it. A process killed
between a send and that commit sends again once the lease has run out, with the same
idempotency key (webhooks) or Message-ID (e-mail): receivers that honour the key keep
one copy. That gap, one commit long, is the only place a second copy can come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select

from dothi.accounts.models import User
from dothi.alarms.channels import Mailbox, Mailer, WebhookCall, email_message, post_webhook
from dothi.alarms.delivery_models import AlarmNotification, AlarmWebhook, Channel
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.telemetry.notifications import backoff

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 12
"""Attempts before a notification is given up (about five hours of backoff, capped at 1 h)."""
LEASE = timedelta(minutes=5)
BATCH = 10
"""Notifications claimed per round: BATCH sends at their longest timeout fit in the LEASE."""


@dataclass(frozen=True, slots=True)
class _Mail:
    id: int
    key: str
    payload: dict[str, Any]
    to: str


@dataclass(frozen=True, slots=True)
class _Post:
    id: int
    call: WebhookCall


def deliver_due(
    database: Database,
    http: httpx.Client,
    mailer: Mailer | None,
    clock: Clock,
    *,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> int:
    """Send the notifications that are due (e-mail only with a mailer); how many were tried.

    No transaction is held open while a receiver answers (or does not).
    """
    claimed = _claim(database, clock.now(), batch, lease, email=mailer is not None)
    mailbox = Mailbox(mailer) if mailer is not None else None
    try:
        for item in claimed:
            if isinstance(item, _Post):
                error = post_webhook(http, item.call, clock.now())
            else:
                assert mailbox is not None and mailer is not None  # mail is claimed only then
                message = email_message(item.payload, item.key, mailer.sender, item.to, clock.now())
                error = mailbox.send(message, item.to)
            _record(database, item.id, error, clock.now())
    finally:
        if mailbox is not None:
            mailbox.close()
    return len(claimed)


def _claim(
    database: Database, now: datetime, batch: int, lease: timedelta, *, email: bool
) -> list[_Mail | _Post]:
    """Take the due rows for `lease`; rows whose recipient is gone are given up here."""
    channels = [Channel.WEBHOOK.value, *([Channel.EMAIL.value] if email else [])]
    query = (
        select(
            AlarmNotification,
            AlarmWebhook.url,
            AlarmWebhook.secret,
            AlarmWebhook.active,
            User.email,
            User.active,
        )
        .outerjoin(AlarmWebhook, AlarmWebhook.id == AlarmNotification.webhook_id)
        .outerjoin(User, User.id == AlarmNotification.user_id)
        .where(
            AlarmNotification.sent_at.is_(None),
            AlarmNotification.attempts < MAX_ATTEMPTS,
            AlarmNotification.next_attempt_at <= now,
            or_(AlarmNotification.claimed_until.is_(None), AlarmNotification.claimed_until <= now),
            AlarmNotification.channel.in_(channels),
        )
        .order_by(AlarmNotification.next_attempt_at, AlarmNotification.id)
        .limit(batch)
    )
    if not database.is_sqlite:  # several notifiers take different rows
        query = query.with_for_update(skip_locked=True, of=AlarmNotification)
    claimed: list[_Mail | _Post] = []
    with database.write() as session:
        for row, url, secret, hook_active, address, user_active in session.execute(query):
            if row.channel == Channel.WEBHOOK and hook_active:
                call = WebhookCall(url, secret, row.idempotency_key, **row.payload)
                claimed.append(_Post(row.id, call))
            elif row.channel == Channel.EMAIL and user_active and address:
                # The address is read now, at send time: the outbox holds only the user id.
                claimed.append(_Mail(row.id, row.idempotency_key, row.payload, address))
            else:
                _give_up(row, "the recipient is inactive or has no address any more")
                continue
            row.claimed_until = now + lease
    return claimed


def _record(database: Database, notification_id: int, error: str | None, now: datetime) -> None:
    """Write down one attempt, in its own transaction, as soon as it is over."""
    with database.write() as session:
        row = session.get(AlarmNotification, notification_id)
        if row is None:
            return  # its webhook was removed meanwhile
        row.attempts += 1
        row.claimed_until = None
        if error is None:
            row.sent_at, row.last_error = now, None
            return
        row.last_error = error
        row.next_attempt_at = now + backoff(row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            log.warning("alarm notification given up", key=row.idempotency_key, error=error)


def _give_up(row: AlarmNotification, why: str) -> None:
    row.attempts, row.last_error, row.claimed_until = MAX_ATTEMPTS, why, None
    log.info("alarm notification dropped", key=row.idempotency_key, why=why)
