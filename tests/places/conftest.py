"""Fixtures of the places tests."""

from __future__ import annotations

import pytest

from dothi.db.engine import Database
from dothi.places.datasets import load_bundled


@pytest.fixture
def both_trees(demo_db: Database) -> Database:
    """The demo district (3 levels) and the same area after the 2025 reform (2 levels)."""
    with demo_db.write() as session:
        load_bundled(session, "hcm-2025")
    return demo_db
