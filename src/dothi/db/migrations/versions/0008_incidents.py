"""Incidents: incidents and their causes, SOP steps, directives and each unit's part, the
timeline of incidents and directives, shifts and their log book.

Revision ID: 0008_incidents
Revises: 0007_alarm_notifications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

revision = "0008_incidents"
down_revision = "0007_alarm_notifications"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    _incidents()
    _steps()
    _directives()
    _timeline()
    _shifts()


def _incidents() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("status", sa.String(15), nullable=False),
        sa.Column("lead_unit_id", sa.Uuid(), nullable=True),
        sa.Column("helping_unit_ids", JSONDoc, nullable=False),
        sa.Column("sop_code", sa.String(40), nullable=True),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_incidents_point"
        ),
        _fk("incidents", "admin_unit_id", "admin_units"),
        _fk("incidents", "lead_unit_id", "org_units"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    _index("incidents", "type", "admin_unit_id", "status", "opened_at")
    op.create_table(
        "incident_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        _fk("incident_links", "incident_id", "incidents", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_links"),
        sa.UniqueConstraint(
            "incident_id", "kind", "ref", name="uq_incident_links_incident_id_kind_ref"
        ),
    )
    _index("incident_links", "incident_id", "ref")


def _steps() -> None:
    op.create_table(
        "incident_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_kind", sa.String(20), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("org_unit_id", sa.Uuid(), nullable=True),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(15), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", UTCDateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        _fk("incident_steps", "incident_id", "incidents", "CASCADE"),
        _fk("incident_steps", "org_unit_id", "org_units"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_steps"),
        sa.UniqueConstraint(
            "incident_id", "position", name="uq_incident_steps_incident_id_position"
        ),
    )
    _index("incident_steps", "incident_id", "org_unit_id", "due_at", "state", "next_reminder_at")


def _directives() -> None:
    op.create_table(
        "directives",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        _fk("directives", "incident_id", "incidents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_directives"),
    )
    _index("directives", "deadline", "incident_id")
    op.create_table(
        "directive_targets",
        sa.Column("directive_id", sa.Uuid(), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(15), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("remind_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
        _fk("directive_targets", "directive_id", "directives", "CASCADE"),
        _fk("directive_targets", "org_unit_id", "org_units"),
        sa.PrimaryKeyConstraint("directive_id", "org_unit_id", name="pk_directive_targets"),
    )
    _index("directive_targets", "admin_unit_id", "state", "remind_at")


def _timeline() -> None:
    op.create_table(
        "incident_timeline",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("directive_id", sa.Uuid(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=True),
        sa.Column("attachments", JSONDoc, nullable=False),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.CheckConstraint(
            "(incident_id IS NULL) <> (directive_id IS NULL)",
            name="ck_incident_timeline_one_subject",
        ),
        _fk("incident_timeline", "incident_id", "incidents", "CASCADE"),
        _fk("incident_timeline", "directive_id", "directives", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_timeline"),
    )
    _index("incident_timeline", "incident_id", "directive_id", "org_unit_id")


def _shifts() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("open_key", sa.String(64), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("handover", JSONDoc, nullable=True),
        sa.Column("handover_note", sa.Text(), nullable=False),
        sa.Column("signed_by", sa.String(64), nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_shifts"),
        sa.UniqueConstraint("open_key", name="uq_shifts_open_key"),
    )
    _index("shifts", "operator", "opened_at")
    op.create_table(
        "shift_log_entries",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        _fk("shift_log_entries", "shift_id", "shifts", "CASCADE"),
        _fk("shift_log_entries", "incident_id", "incidents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_shift_log_entries"),
    )
    _index("shift_log_entries", "shift_id")


def downgrade() -> None:
    for table in (
        "shift_log_entries",
        "shifts",
        "incident_timeline",
        "directive_targets",
        "directives",
        "incident_steps",
        "incident_links",
        "incidents",
    ):
        op.drop_table(table)
