"""The migrations build the tables the models describe, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import dothi.accounts.models
import dothi.alarms.delivery_models
import dothi.alarms.models
import dothi.cameras.models
import dothi.incidents.models
import dothi.places.models
import dothi.reports.models
import dothi.telemetry.models
from dothi.db.base import Base
from dothi.db.engine import Database

MODELS = (
    dothi.places.models,
    dothi.accounts.models,
    dothi.telemetry.models,
    dothi.reports.models,
    dothi.alarms.models,
    dothi.alarms.delivery_models,
    dothi.incidents.models,
    dothi.cameras.models,
)
"""Every module of tables: imported, their tables are in `Base.metadata`."""

# SQLAlchemy reflects PostGIS's geometry type as NullType, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")


def _mapped(obj: Any, name: str | None, kind: str, _reflected: bool, _compared: Any) -> bool:
    """Skip what no model maps: PostGIS's column, index and table, the monthly partitions,
    and tables that tests declare for themselves."""
    postgis = name in ("geom", "ix_admin_units_geom", "spatial_ref_sys")
    table = kind == "table" and (name or "").startswith(("observations_", "test_"))
    return not postgis and not table


def test_migrated_tables_match_the_models(db: Database) -> None:
    assert {"admin_units", "users", "entities", "reports"} <= set(Base.metadata.tables)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _mapped, "compare_type": True}
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
