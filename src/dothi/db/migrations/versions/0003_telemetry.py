"""Telemetry: entities, their attributes with latest values, observations, rollups,
dead letters, subscriptions and their outbox, device commands; integration limits of API keys.

Revision ID: 0003_telemetry
Revises: 0002_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dothi.db.base import JSONDoc

revision = "0003_telemetry"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("mqtt_hash", sa.String(200), nullable=True))
    op.add_column("api_keys", sa.Column("entity_types", JSONDoc, nullable=True))
    op.add_column(
        "api_keys",
        sa.Column("provision", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("provision")
        batch.drop_column("entity_types")
        batch.drop_column("mqtt_hash")
