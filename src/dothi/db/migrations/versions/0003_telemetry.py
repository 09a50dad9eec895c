"""Telemetry: entities, their attributes with latest values, observations, rollups,
dead letters, subscriptions and their outbox, device commands; integration limits of API keys.

Revision ID: 0003_telemetry
Revises: 0002_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

SERIES_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0003_telemetry"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _entities()
    _series()
    _messages()
    op.add_column("api_keys", sa.Column("mqtt_hash", sa.String(200), nullable=True))
    op.add_column("api_keys", sa.Column("entity_types", JSONDoc, nullable=True))
    op.add_column(
        "api_keys",
        sa.Column("provision", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def _entities() -> None:
    op.create_table(
        "entities",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("properties", JSONDoc, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_unit_id"], ["admin_units.id"], name="fk_entities_admin_unit_id_admin_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
    )
    op.create_index("ix_entities_type", "entities", ["type"])
    op.create_index("ix_entities_admin_unit_id", "entities", ["admin_unit_id"])
    op.create_index("ix_entities_lat", "entities", ["lat"])
    op.create_table(
        "device_commands",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("arguments", JSONDoc, nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name="fk_device_commands_entity_id_entities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_device_commands"),
    )
    op.create_index("ix_device_commands_entity_id", "device_commands", ["entity_id"])


def _series() -> None:
    op.create_table(
        "entity_attributes",
        sa.Column("id", SERIES_KEY, autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(16), nullable=True),
        sa.Column("observed_at", UTCDateTime(), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name="fk_entity_attributes_entity_id_entities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_entity_attributes"),
        sa.UniqueConstraint("entity_id", "name", name="uq_entity_attributes_entity_id_name"),
    )
    op.create_table(
        "observations",
        sa.Column("attribute_id", SERIES_KEY, nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("attribute_id", "observed_at", name="pk_observations"),
        sqlite_with_rowid=False,
        postgresql_partition_by="RANGE (observed_at)",
    )
    op.create_table(
        "observation_rollups",
        sa.Column("attribute_id", SERIES_KEY, nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("attribute_id", "hour", name="pk_observation_rollups"),
        sqlite_with_rowid=False,
    )


def _messages() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=True),
        sa.Column("topic", sa.String(400), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("document", JSONDoc, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("throttling", sa.Integer(), nullable=False),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("last_notification_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_owner", "subscriptions", ["owner"])
    op.create_table(
        "subscription_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.String(256), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_subscription_notifications_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_notifications"),
    )
    op.create_index(
        "ix_subscription_notifications_subscription_id",
        "subscription_notifications",
        ["subscription_id"],
    )
    op.create_index(
        "ix_subscription_notifications_due",
        "subscription_notifications",
        ["sent_at", "next_attempt_at"],
    )


def downgrade() -> None:
    for table in (
        "subscription_notifications",
        "subscriptions",
        "dead_letters",
        "observation_rollups",
        "observations",
        "entity_attributes",
        "device_commands",
        "entities",
    ):
        op.drop_table(table)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("provision")
        batch.drop_column("entity_types")
        batch.drop_column("mqtt_hash")
