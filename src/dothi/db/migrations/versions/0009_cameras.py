"""Cameras: the ward recorders, the cameras, and the changes of their health.

Revision ID: 0009_cameras
Revises: 0008_incidents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc, UTCDateTime

revision = "0009_cameras"
down_revision = "0008_incidents"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "camera_recorders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=True),
        sa.Column("address", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_unit_id"],
            ["admin_units.id"],
            name="fk_camera_recorders_admin_unit_id_admin_units",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_camera_recorders"),
        sa.UniqueConstraint("code", name="uq_camera_recorders_code"),
    )
    op.create_index("ix_camera_recorders_admin_unit_id", "camera_recorders", ["admin_unit_id"])
    op.create_table(
        "cameras",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("admin_unit_id", sa.Uuid(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("heading", sa.Float(), nullable=False),
        sa.Column("field_of_view", sa.Float(), nullable=False),
        sa.Column("range_m", sa.Float(), nullable=False),
        sa.Column("purposes", JSONDoc, nullable=False),
        sa.Column("recorder_id", sa.Uuid(), nullable=True),
        sa.Column("stream_url", sa.String(500), nullable=True),
        sa.Column("snapshot_url", sa.String(500), nullable=True),
        sa.Column("username", sa.String(100), nullable=True),
        sa.Column("password", sa.String(200), nullable=True),
        sa.Column("analytics", JSONDoc, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("health", sa.String(10), nullable=False),
        sa.Column("health_since", UTCDateTime(), nullable=True),
        sa.Column("last_probe_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_unit_id"], ["admin_units.id"], name="fk_cameras_admin_unit_id_admin_units"
        ),
        sa.ForeignKeyConstraint(
            ["recorder_id"],
            ["camera_recorders.id"],
            name="fk_cameras_recorder_id_camera_recorders",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
        sa.UniqueConstraint("code", name="uq_cameras_code"),
    )
    op.create_index("ix_cameras_admin_unit_id", "cameras", ["admin_unit_id"])
    op.create_index("ix_cameras_recorder_id", "cameras", ["recorder_id"])
    op.create_table(
        "camera_health_changes",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("health", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name="fk_camera_health_changes_camera_id_cameras",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_camera_health_changes"),
    )
    op.create_index(
        "ix_camera_health_changes_camera_at", "camera_health_changes", ["camera_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("camera_health_changes")
    op.drop_table("cameras")
    op.drop_table("camera_recorders")
