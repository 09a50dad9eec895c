"""A backfill through the real in-process pipeline stores every simulated reading once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.simulator.engine import Simulator
from dothi.simulator.faults import FaultRates
from dothi.simulator.run import SIMULATOR, SimulationClock, run
from dothi.simulator.sinks import PipelineSink
from dothi.telemetry.models import DeadLetter, Entity, Observation
from dothi.telemetry.pipeline import Pipeline
from tests.simulator.helpers import JULY, ZONE, layout_of, minute_of

HOURS = 2


def _count(database: Database, model: type[object]) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_two_hours_of_history_are_stored(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    start = JULY - timedelta(hours=HOURS)
    expected = Simulator(layout, 3, FaultRates(), ZONE)
    messages = [
        m for minute in range(minute_of(start), minute_of(JULY)) for m in expected.minute(minute)
    ]

    clock = SimulationClock(origin=JULY)  # the pipeline's "now": the end of the history
    sink = PipelineSink(Pipeline(demo_db, EventBus(), clock, ZONE), SIMULATOR)
    simulator = Simulator(layout, 3, FaultRates(), ZONE)
    totals = run(simulator, sink, clock, start, threading.Event(), live=False, batch=500)

    assert totals.messages == len(messages) > 2_000
    assert totals.readings == sum(m.readings for m in messages)
    assert sink.stored == _count(demo_db, Observation) == totals.readings
    assert sink.refused == _count(demo_db, DeadLetter) == 0
    assert totals.resume >= JULY
    with demo_db.read() as session:
        entities = session.scalars(select(Entity)).all()
    assert {e.id for e in entities} == {m.entity_id for m in messages}
    assert all(e.admin_unit_id is not None and e.properties.get("name") for e in entities)

    again = run(
        Simulator(layout, 3, FaultRates(), ZONE), sink, clock, start, threading.Event(), live=False
    )
    assert again.readings == totals.readings  # sent again, stored once
    assert _count(demo_db, Observation) == totals.readings
