"""Fixtures of the dashboard tests: the small district of `helpers`, on each backend."""

from __future__ import annotations

import pytest

from dothi.db.engine import Database
from tests.kpis.helpers import Scene, build_scene


@pytest.fixture
def scene(demo_db: Database) -> Scene:
    return build_scene(demo_db)
