"""Citizen reports: categories, routing rules, states, response templates, reports, their
history, ratings, followers, photos and moderation.

Revision ID: 0004_reports
Revises: 0003_telemetry
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

revision = "0004_reports"
down_revision = "0003_telemetry"
branch_labels = None
depends_on = None


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _fk(
    column: str, table: str, target: str, *, nullable: bool = False
) -> list[sa.schema.SchemaItem]:
    """A foreign-key column and its constraint, named by the convention of `db/base.py`."""
    return [
        sa.Column(column, sa.Uuid(), nullable=nullable),
        sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}"),
    ]


def upgrade() -> None:
    op.create_table(
        "report_categories",
        _id(),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("group", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", JSONDoc, nullable=False),
        sa.Column("unit_kind", sa.String(20), nullable=False),
        sa.Column("attributes", JSONDoc, nullable=False),
        sa.Column("urgent_hours", sa.Float(), nullable=False),
        sa.Column("normal_hours", sa.Float(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_categories"),
        sa.UniqueConstraint("code", name="uq_report_categories_code"),
    )
    op.create_table(
        "report_routes",
        _id(),
        *_fk("category_id", "report_routes", "report_categories"),
        *_fk("admin_unit_id", "report_routes", "admin_units", nullable=True),
        *_fk("org_unit_id", "report_routes", "org_units"),
        sa.PrimaryKeyConstraint("id", name="pk_report_routes"),
        sa.UniqueConstraint(
            "category_id", "admin_unit_id", name="uq_report_routes_category_id_admin_unit_id"
        ),
    )
    op.create_index("ix_report_routes_org_unit_id", "report_routes", ["org_unit_id"])
    op.create_table(
        "report_states",
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("open311_status", sa.String(40), nullable=False),
        sa.Column("reason_required", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_report_states"),
    )
    op.create_table(
        "report_responses",
        _id(),
        sa.Column("code", sa.String(40), nullable=False),
        *_fk("category_id", "report_responses", "report_categories", nullable=True),
        sa.Column("state", sa.String(30), nullable=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["state"], ["report_states.code"], name="fk_report_responses_state_report_states"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_responses"),
        sa.UniqueConstraint("code", name="uq_report_responses_code"),
    )
    op.create_table(
        "reports",
        _id(),
        sa.Column("tracking_code", sa.String(12), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        *_fk("category_id", "reports", "report_categories"),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        *_fk("admin_unit_id", "reports", "admin_units", nullable=True),
        *_fk("org_unit_id", "reports", "org_units", nullable=True),
        sa.Column("reporter_name", sa.String(200), nullable=True),
        sa.Column("reporter_phone", sa.String(20), nullable=True),
        sa.Column("reporter_email", sa.String(254), nullable=True),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("attributes", JSONDoc, nullable=False),
        sa.Column("media_url", sa.String(500), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        *_fk("duplicate_of_id", "reports", "reports", nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("accept_due_at", UTCDateTime(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_reports_point"
        ),
        sa.ForeignKeyConstraint(
            ["state"], ["report_states.code"], name="fk_reports_state_report_states"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("tracking_code", name="uq_reports_tracking_code"),
    )
    for column in ("category_id", "state", "admin_unit_id", "created_at"):
        op.create_index(f"ix_reports_{column}", "reports", [column])
    op.create_index("ix_reports_org_unit_id_due_at", "reports", ["org_unit_id", "due_at"])
    op.create_table(
        "report_updates",
        _id(),
        *_fk("report_id", "report_updates", "reports"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("state", sa.String(30), nullable=True),
        *_fk("org_unit_id", "report_updates", "org_units", nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["state"], ["report_states.code"], name="fk_report_updates_state_report_states"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_updates"),
        sa.UniqueConstraint("report_id", "number", name="uq_report_updates_report_id_number"),
    )
    op.create_index("ix_report_updates_at", "report_updates", ["at"])
    op.create_table(
        "report_ratings",
        _id(),
        *_fk("report_id", "report_ratings", "reports"),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_report_ratings_score"),
        sa.PrimaryKeyConstraint("id", name="pk_report_ratings"),
    )
    op.create_table(
        "report_followers",
        _id(),
        *_fk("report_id", "report_followers", "reports"),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_followers"),
    )
    op.create_table(
        "report_photos",
        _id(),
        *_fk("report_id", "report_photos", "reports"),
        *_fk("update_id", "report_photos", "report_updates", nullable=True),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_photos"),
    )
    op.create_table(
        "report_moderations",
        _id(),
        *_fk("report_id", "report_moderations", "reports"),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_moderations"),
    )
    for table in ("report_ratings", "report_followers", "report_photos", "report_moderations"):
        op.create_index(f"ix_{table}_report_id", table, ["report_id"])


def downgrade() -> None:
    for table in (
        "report_moderations",
        "report_photos",
        "report_followers",
        "report_ratings",
        "report_updates",
        "reports",
        "report_responses",
        "report_states",
        "report_routes",
        "report_categories",
    ):
        op.drop_table(table)
