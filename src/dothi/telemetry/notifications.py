"""Delivering the outbox of NGSI-LD notifications: POST, retry with backoff, record.

Several notifier workers may run: each claims due notifications (`FOR UPDATE
SKIP LOCKED` on PostgreSQL) with a lease, so a worker that dies lets another retry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.telemetry.models import Subscription, SubscriptionNotification
from dothi.telemetry.representation import iso

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LAST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=2)
"""How long a worker holds the notifications it claimed before another may retry them."""
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: uuid.UUID
    subscription_id: str
    uri: str
    accept: str
    payload: dict[str, Any]


def deliver_due(database: Database, client: httpx.Client, clock: Clock, *, batch: int = 50) -> int:
    """POST the notifications that are due; returns how many were tried.

    Claiming and recording are two short transactions: no database transaction
    is held open while a subscriber's endpoint answers (or does not).
    """
    claimed = _claim(database, clock.now(), batch)
    outcomes = [(item, _post(client, item, clock.now())) for item in claimed]
    if outcomes:
        _record(database, clock.now(), outcomes)
    return len(claimed)


def _claim(database: Database, now: datetime, batch: int) -> list[_Claimed]:
    with database.write() as session:
        query = (
            select(SubscriptionNotification, Subscription.document)
            .join(Subscription, Subscription.id == SubscriptionNotification.subscription_id)
            .where(
                SubscriptionNotification.sent_at.is_(None),
                SubscriptionNotification.attempts < MAX_ATTEMPTS,
                SubscriptionNotification.next_attempt_at <= now,
            )
            .order_by(SubscriptionNotification.next_attempt_at)
            .limit(batch)
        )
        if not database.is_sqlite:  # several notifier workers take different rows
            query = query.with_for_update(skip_locked=True, of=SubscriptionNotification)
        claimed = []
        for notification, document in session.execute(query):
            notification.next_attempt_at = now + LEASE
            endpoint = document["notification"]["endpoint"]
            claimed.append(
                _Claimed(
                    notification.id,
                    notification.subscription_id,
                    endpoint["uri"],
                    endpoint.get("accept", "application/json"),
                    notification.payload,
                )
            )
        return claimed


def _post(client: httpx.Client, item: _Claimed, now: datetime) -> str | None:
    """POST one notification; the error as text, or None when the endpoint took it."""
    payload = {**item.payload, "notifiedAt": iso(now)}
    headers = {"Content-Type": item.accept, "Accept": "application/json"}
    try:
        response = client.post(item.uri, json=payload, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:500]
    if response.is_success:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"[:500]


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next attempt after `attempts` failed ones."""
    delay: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(delay, LAST_RETRY)


def _record(database: Database, now: datetime, outcomes: list[tuple[_Claimed, str | None]]) -> None:
    with database.write() as session:
        for item, error in outcomes:
            notification = session.get(SubscriptionNotification, item.id)
            subscription = session.get(Subscription, item.subscription_id)
            if notification is None or subscription is None:
                continue  # the subscription was deleted meanwhile
            notification.attempts += 1
            if error is None:
                notification.sent_at = now
                notification.last_error = None
                subscription.times_sent += 1
                subscription.last_success_at = now
            else:
                notification.last_error = error
                notification.next_attempt_at = now + backoff(notification.attempts)
                subscription.last_failure_at = now
