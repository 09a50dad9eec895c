"""Fixtures of the reports tests: a fixed clock and the demo district ready for reports."""

from __future__ import annotations

import pytest

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from tests.reports.helpers import START, District, build_district


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def district(demo_db: Database, clock: FixedClock) -> District:
    return build_district(demo_db, clock)
