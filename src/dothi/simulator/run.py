"""The simulator's loop: history as fast as the ingest path takes it, then minute by minute.

A backfill and a live run are one loop: every simulated minute from the start
on is sent once it is over; minutes already over when the loop gets to them (the
history) go out in big batches, then the loop waits for each next minute. The
simulated clock may run faster than the wall clock (`speed`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import structlog

from dothi.accounts.permissions import SYSTEM
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.simulator.district import build_layout, load_roads, load_wards
from dothi.simulator.engine import Outgoing, Simulator
from dothi.simulator.faults import FaultRates
from dothi.simulator.sinks import PipelineSink, Sink
from dothi.telemetry.pipeline import Pipeline

log = structlog.get_logger(__name__)

DISTRICT = "768"  # Quận Phú Nhuận, the demo district
LAYOUT_SEED = 768
"""The sensors are installations: they stay where they are whatever `--seed` draws."""
BATCH = 1000  # messages per ingest call while catching up (one call per minute when live)
LONGEST_WAIT = 1.0  # seconds between looks at the stop flag


class SimulationClock:
    """Simulated time: starts at `origin` (default: now) and runs `speed` times as fast."""

    def __init__(self, speed: float = 1.0, origin: datetime | None = None) -> None:
        self.speed = speed
        self._origin = origin or datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) * self.speed)


@dataclass(slots=True)
class Totals:
    """What a run sent, and the minute a next run resumes at."""

    resume: datetime
    messages: int = 0
    readings: int = 0

    def add(self, other: Totals) -> None:
        self.messages += other.messages
        self.readings += other.readings
        self.resume = other.resume


Progress = Callable[[int, int], None]
"""Told (minutes of history sent, minutes of history in all) after each batch."""


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def run(
    simulator: Simulator,
    sink: Sink,
    clock: SimulationClock,
    start: datetime,
    stop: threading.Event,
    *,
    live: bool = True,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> Totals:
    """Send every minute from `start` on, until `stop` (or, not `live`, until now)."""
    first = cursor = _minute(start)
    history = max(0, _minute(clock.now()) - first)  # minutes over when the run begins
    totals = Totals(start)
    pending: list[Outgoing] = []

    def send() -> None:
        sink.send(pending)
        totals.messages += len(pending)
        totals.readings += sum(message.readings for message in pending)
        pending.clear()
        if progress is not None:
            progress(min(cursor - first, history), history)

    while not stop.is_set():
        over = _minute(clock.now())  # minutes before this one have ended
        while cursor < over and not stop.is_set():
            pending += simulator.minute(cursor)
            cursor += 1
            if len(pending) >= batch:
                send()
        if pending:
            send()
        if not live and cursor >= first + history:
            break
        left = (over + 1) * 60 - clock.now().timestamp()  # simulated seconds to the next minute
        stop.wait(min(LONGEST_WAIT, max(0.01, left / clock.speed)))
    totals.resume = datetime.fromtimestamp(cursor * 60, UTC)
    return totals


SIMULATOR = replace(SYSTEM, username="simulator", provision=True)
"""Who in-process messages come from: dothi itself, allowed to create the demo's entities."""


def simulator_for(
    database: Database, seed: int, zone: str, rates: FaultRates | None = None
) -> Simulator:
    """The demo district's simulator, its layout read from the wards in the database."""
    with database.read() as session:
        wards = load_wards(session, DISTRICT, datetime.now(UTC).date())
    layout = build_layout(wards, load_roads(), LAYOUT_SEED)
    return Simulator(layout, seed, rates or FaultRates(), zone)


class Background:
    """The simulator in a thread of the demo: a short history, then live, until `stop()`."""

    def __init__(
        self, database: Database, bus: EventBus, zone: str, seed: int, history: timedelta
    ) -> None:
        self._stop = threading.Event()
        clock = SimulationClock()
        pipeline = Pipeline(database, bus, clock, zone)
        simulator = simulator_for(database, seed, zone)
        start = clock.now() - history

        def main() -> None:
            try:
                run(simulator, PipelineSink(pipeline, SIMULATOR), clock, start, self._stop)
            except Exception:
                log.exception("the simulator stopped")

        self._thread = threading.Thread(target=main, name="simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch being stored and stop."""
        self._stop.set()
        self._thread.join(timeout)
