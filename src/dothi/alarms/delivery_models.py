"""Tables of alarm notifications: webhook receivers, people's preferences, the outbox and the
cursor of the fan-out over the alarm feed.

The outbox row of one notification to one recipient carries an idempotency key that is
unique: fanning a feed entry out twice writes nothing new, and a resend after a crash
carries the same key, so a receiver that honours it keeps one copy. An e-mail row names
the user, never their address: the address is read when the message is sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dothi.core.ids import new_id
from dothi.db.base import Base, BigKey, JSONDoc


class Channel(StrEnum):
    """How a notification travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class WebhookFormat(StrEnum):
    """What a webhook receives: dothi's JSON or CAP 1.2 XML."""

    JSON = "json"
    CAP = "cap"


class AlarmWebhook(Base):
    """A system that receives alarm transitions over HTTP (a city IOC, a utility's dispatch)."""

    __tablename__ = "alarm_webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    # Signs each body (HMAC-SHA256); shown once, when the webhook is created.
    secret: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(10))  # WebhookFormat
    # Filters: at least this severity, in these units' subtrees (codes, or "*"), these kinds.
    min_severity: Mapped[str] = mapped_column(String(10))
    wards: Mapped[list[str]] = mapped_column(JSONDoc)
    kinds: Mapped[list[str]] = mapped_column(JSONDoc)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class NotificationPreference(Base):
    """What a person wants to receive on a channel; no row: the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)  # Channel
    min_severity: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)


class AlarmNotification(Base):
    """The outbox: one notification of one feed entry to one recipient, until it is sent.

    The recipient is a user (e-mail) or a webhook: one of the two keys is set, so a
    webhook removed takes its pending notifications with it.
    """

    __tablename__ = "alarm_notifications"
    __table_args__ = (Index("ix_alarm_notifications_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(
        BigKey, ForeignKey("alarm_feed.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))  # Channel
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("alarm_webhooks.id", ondelete="CASCADE"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    # What is sent, rendered at fan-out: {subject, body} or {content_type, body}.
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]  # a sender's lease
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class AlarmFeedCursor(Base):
    """How far a reader of the alarm feed has gone (the fan-out's last entry)."""

    __tablename__ = "alarm_feed_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
