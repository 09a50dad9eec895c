"""Migration 0001_places builds the table the model describes, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from dothi.db.base import Base
from dothi.db.engine import Database
from dothi.places.models import AdminUnit

# SQLAlchemy reflects PostGIS's geometry type as NullType, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")


def _ours(obj: Any, name: str | None, kind: str, _reflected: bool, _compared: Any) -> bool:
    """Compare only admin_units, minus the PostGIS column and index the model does not map."""
    table = obj if kind == "table" else getattr(obj, "table", None)
    postgis = name in ("geom", "ix_admin_units_geom")
    return getattr(table, "name", None) == AdminUnit.__tablename__ and not postgis


def test_migrated_table_matches_the_model(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _ours, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_postgresql_gets_an_indexed_postgis_geometry(db: Database) -> None:
    inspector = inspect(db.engine)
    columns = {column["name"] for column in inspector.get_columns("admin_units")}
    indexes = {index["name"] for index in inspector.get_indexes("admin_units")}
    if db.is_sqlite:
        assert "geom" not in columns
    else:
        assert "geom" in columns
        assert "ix_admin_units_geom" in indexes
