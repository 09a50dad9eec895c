"""Alarms: rules, what each rule remembers about each entity, alarms, their history and the
feed of transitions.

Revision ID: 0006_alarms
Revises: 0005_rollup_marks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

revision = "0006_alarms"
down_revision = "0005_rollup_marks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("definition", JSONDoc, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_rules"),
        sa.UniqueConstraint("code", name="uq_alarm_rules_code"),
    )
    op.create_index("ix_alarm_rules_entity_type", "alarm_rules", ["entity_type"])
    op.create_table(
        "alarm_rule_memories",
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("state", JSONDoc, nullable=False),
        sa.Column("evaluated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alarm_rules.id"],
            name="fk_alarm_rule_memories_rule_id_alarm_rules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "entity_id", name="pk_alarm_rule_memories"),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("rule_name", sa.String(200), nullable=False),
        sa.Column("entity_id", sa.String(256), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("state", sa.String(15), nullable=False),
        sa.Column("open_key", sa.String(300), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("cleared_by", sa.String(64), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", UTCDateTime(), nullable=True),
        sa.Column("next_reminder_at", UTCDateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("flaps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alarm_rules.id"],
            name="fk_alarms_rule_id_alarm_rules",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["admin_unit_id"], ["admin_units.id"], name="fk_alarms_admin_unit_id_admin_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        sa.UniqueConstraint("open_key", name="uq_alarms_open_key"),
    )
    for column in (
        "rule_id",
        "entity_id",
        "admin_unit_id",
        "state",
        "raised_at",
        "next_escalation_at",
        "next_reminder_at",
    ):
        op.create_index(f"ix_alarms_{column}", "alarms", [column])
    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alarm_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name="fk_alarm_events_alarm_id_alarms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_events"),
    )
    op.create_index("ix_alarm_events_alarm_id", "alarm_events", ["alarm_id"])
    op.create_table(
        "alarm_feed",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alarm_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=True),
        sa.Column("document", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name="fk_alarm_feed_alarm_id_alarms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_feed"),
    )
    for column in ("alarm_id", "at", "admin_unit_id"):
        op.create_index(f"ix_alarm_feed_{column}", "alarm_feed", [column])


def downgrade() -> None:
    for table in ("alarm_feed", "alarm_events", "alarms", "alarm_rule_memories", "alarm_rules"):
        op.drop_table(table)
