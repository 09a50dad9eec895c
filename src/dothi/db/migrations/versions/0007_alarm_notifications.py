"""Alarm notifications: webhooks, people's preferences, the outbox and the feed cursor.

The fan-out's cursor starts at the newest feed entry there is: a deployment that
upgrades does not mail its whole history.

Revision ID: 0007_alarm_notifications
Revises: 0006_alarms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

revision = "0007_alarm_notifications"
down_revision = "0006_alarms"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alarm_webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("min_severity", sa.String(10), nullable=False),
        sa.Column("wards", JSONDoc, nullable=False),
        sa.Column("kinds", JSONDoc, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_webhooks"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("min_severity", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_notification_preferences_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "channel", name="pk_notification_preferences"),
    )
    _create_outbox()
    cursors = op.create_table(
        "alarm_feed_cursors",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_alarm_feed_cursors"),
    )
    newest = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM alarm_feed"))
    op.bulk_insert(cursors, [{"name": "notifications", "last_id": newest}])


def _create_outbox() -> None:
    op.create_table(
        "alarm_notifications",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("feed_id", BIG_KEY, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("webhook_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["alarm_feed.id"],
            name="fk_alarm_notifications_feed_id_alarm_feed",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_alarm_notifications_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["alarm_webhooks.id"],
            name="fk_alarm_notifications_webhook_id_alarm_webhooks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_notifications"),
        sa.UniqueConstraint("idempotency_key", name="uq_alarm_notifications_idempotency_key"),
    )
    for column in ("feed_id", "user_id", "webhook_id"):
        op.create_index(f"ix_alarm_notifications_{column}", "alarm_notifications", [column])
    op.create_index(
        "ix_alarm_notifications_due", "alarm_notifications", ["sent_at", "next_attempt_at"]
    )


def downgrade() -> None:
    for table in (
        "alarm_feed_cursors",
        "alarm_notifications",
        "notification_preferences",
        "alarm_webhooks",
    ):
        op.drop_table(table)
