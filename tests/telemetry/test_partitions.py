"""Monthly partitions on PostgreSQL: created for whatever months the readings fall in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text

from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.models import Observation
from dothi.telemetry.partitions import ensure_ahead
from dothi.telemetry.pipeline import Pipeline
from tests.telemetry.helpers import NOW, message

STATION = "urn:ngsi-ld:NoiseLevelObserved:pn-1"


def _partitions(database: Database) -> set[str]:
    return {
        name
        for name in inspect(database.engine).get_table_names()
        if name.startswith("observations_")
    }


def test_readings_of_old_months_find_their_partition(demo_db: Database) -> None:
    pipeline = Pipeline(demo_db, EventBus(), FixedClock(NOW), "Asia/Ho_Chi_Minh")
    times = [
        datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        NOW,
    ]
    for at in times:
        outcome = pipeline.ingest(
            [message(STATION, {"LAeq": {"value": 61.0, "observedAt": at.isoformat()}})]
        )
        assert outcome.stored == 1
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 3
    if demo_db.is_sqlite:
        assert _partitions(demo_db) == set()
        return
    assert {
        "observations_y2025m12",
        "observations_y2026m01",
        "observations_y2026m11",
    } <= _partitions(demo_db)
    with demo_db.read() as session:  # each row sits in its month's partition
        counted = session.scalar(text("SELECT count(*) FROM observations_y2026m01"))
    assert counted == 1


def test_the_next_months_are_created_ahead(db: Database) -> None:
    with db.write() as session:
        ensure_ahead(session, NOW)
    ahead = {"observations_y2026m11", "observations_y2026m12", "observations_y2027m01"}
    assert _partitions(db) == (set() if db.is_sqlite else ahead)
