"""Rollups folded after the fact: ingest marks the hours it wrote, a task folds them; latest
values updated in place on PostgreSQL.

Revision ID: 0005_rollup_marks
Revises: 0004_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import UTCDateTime

revision = "0005_rollup_marks"
down_revision = "0004_reports"
branch_labels = None
depends_on = None

LATEST_FILLFACTOR = 40


def upgrade() -> None:
    op.create_table(
        "rollup_marks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rollup_marks"),
    )
    op.create_index("ix_rollup_marks_hour", "rollup_marks", ["hour"])
    if op.get_bind().dialect.name == "postgresql":
        # Every batch rewrites the latest value of its attributes: with room left in each
        # page the new version stays there (a HOT update) and no index grows.
        op.execute(f"ALTER TABLE entity_attributes SET (fillfactor = {LATEST_FILLFACTOR})")


def downgrade() -> None:
    op.drop_table("rollup_marks")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE entity_attributes RESET (fillfactor)")
