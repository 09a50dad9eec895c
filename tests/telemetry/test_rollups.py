"""Hourly rollups folded after the fact: exact before folding, after it, and after late data."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.models import EntityAttribute, HourlyRollup, RollupMark
from dothi.telemetry.pipeline import Pipeline
from dothi.telemetry.rollups import Hour, fold_all, fold_marked, hourly
from tests.telemetry.helpers import NOW, message

STATION = "urn:ngsi-ld:AirQualityObserved:rollup-test"
HOUR = NOW - timedelta(hours=2)  # 01:00 UTC


def _send(pipeline: Pipeline, *readings: tuple[float, datetime]) -> None:
    pipeline.ingest(
        [
            message(STATION, {"pm25": {"value": value, "observedAt": at.isoformat()}})
            for value, at in readings
        ]
    )


def _series(database: Database) -> int:
    with database.read() as session:
        return session.scalars(select(EntityAttribute.id)).one()


def _hours(database: Database, series: int) -> list[Hour]:
    with database.read() as session:
        return hourly(session, series, HOUR - timedelta(hours=1), NOW)


def _marks(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(RollupMark)) or 0


def test_hours_are_exact_before_and_after_folding_and_after_late_data(demo_db: Database) -> None:
    pipeline = Pipeline(demo_db, EventBus(), FixedClock(NOW), "Asia/Ho_Chi_Minh")
    minute = timedelta(minutes=1)
    _send(pipeline, (10.0, HOUR + 5 * minute), (30.0, HOUR + 50 * minute), (7.0, NOW - minute))
    series = _series(demo_db)
    expected = [
        Hour(HOUR, 2, 40.0, 10.0, 30.0, 30.0, HOUR + 50 * minute),
        Hour(NOW - timedelta(hours=1), 1, 7.0, 7.0, 7.0, 7.0, NOW - minute),
    ]
    assert _hours(demo_db, series) == expected  # from the observations: nothing folded yet
    assert _marks(demo_db) == 2
    assert fold_all(demo_db) == 2 and _marks(demo_db) == 0
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(HourlyRollup)) == 2
    assert _hours(demo_db, series) == expected  # from the rollups

    _send(pipeline, (50.0, HOUR + 20 * minute))  # late: into an hour already folded
    late = Hour(HOUR, 3, 90.0, 10.0, 50.0, 30.0, HOUR + 50 * minute)
    assert _hours(demo_db, series) == [late, expected[1]]  # the marked hour read afresh
    fold_all(demo_db)
    with demo_db.read() as session:
        held = session.get(HourlyRollup, (series, HOUR))
        assert held is not None and (held.count, held.total, held.maximum) == (3, 90.0, 50.0)
    assert _hours(demo_db, series) == [late, expected[1]]


def test_a_fold_takes_only_the_marks_it_read(demo_db: Database) -> None:
    pipeline = Pipeline(demo_db, EventBus(), FixedClock(NOW), "Asia/Ho_Chi_Minh")
    _send(pipeline, (12.0, HOUR))
    with demo_db.write() as session:
        session.execute(insert(RollupMark), [{"hour": HOUR}] * 3)
    with demo_db.write() as session:
        assert fold_marked(session, limit=2) == 2
    assert _marks(demo_db) == 2  # the rest waits for the next fold
    assert fold_all(demo_db) == 2 and _marks(demo_db) == 0
