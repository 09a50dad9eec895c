"""Fixtures of the incidents tests: a fixed clock and the demo district at the IOC's desk."""

from __future__ import annotations

import pytest

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from tests.incidents.helpers import Desk, build_desk
from tests.reports.helpers import START


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def desk(demo_db: Database, clock: FixedClock) -> Desk:
    return build_desk(demo_db, clock)
