"""Places: the administrative units table (and its PostGIS geometry on PostgreSQL).

Revision ID: 0001_places
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_places"
down_revision = None
branch_labels = None
depends_on = None

# The geometry is derived from the GeoJSON, so the two can never disagree.
_GEOM = (
    "ALTER TABLE admin_units ADD COLUMN geom geometry(Geometry, 4326) GENERATED ALWAYS AS "
    "(ST_SetSRID(ST_GeomFromGeoJSON(boundary::text), 4326)) STORED"
)


def _json(none_as_null: bool = False) -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=none_as_null).with_variant(
        postgresql.JSONB(none_as_null=none_as_null), "postgresql"
    )


def _postgis_ready() -> bool:
    """Create the PostGIS extension if the server has it; True when it is installed."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    installed = "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
    if bind.exec_driver_sql(installed).scalar():
        return True
    available = "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
    if not bind.exec_driver_sql(available).scalar():
        return False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    except sa.exc.DBAPIError:  # not allowed to: a superuser must run it; GeoJSON still works
        return False
    return True


def upgrade() -> None:
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("search_name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(30), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("boundary", _json(none_as_null=True), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_estimated", sa.Boolean(), nullable=False),
        sa.Column("area_km2", sa.Double(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["admin_units.id"], name="fk_admin_units_parent_id_admin_units"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_admin_units"),
        sa.UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
    )
    op.create_index("ix_admin_units_search_name", "admin_units", ["search_name"])
    op.create_index("ix_admin_units_level", "admin_units", ["level"])
    op.create_index("ix_admin_units_parent_id", "admin_units", ["parent_id"])
    op.create_index(
        "ix_admin_units_path",
        "admin_units",
        ["path"],
        postgresql_ops={"path": "varchar_pattern_ops"},
    )
    if _postgis_ready():
        op.execute(_GEOM)
        op.execute("CREATE INDEX ix_admin_units_geom ON admin_units USING GIST (geom)")


def downgrade() -> None:
    op.drop_table("admin_units")
