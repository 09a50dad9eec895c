"""Fixtures of the web tests: the people of the demo district."""

from __future__ import annotations

import pytest

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from tests.accounts.helpers import START, Town, build_town


@pytest.fixture
def town(demo_db: Database) -> Town:
    return build_town(demo_db, FixedClock(START))
