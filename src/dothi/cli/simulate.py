"""`dothi simulate`: the demo district's sensors, through the real ingest paths."""

from __future__ import annotations

import re
import signal
import threading
from datetime import timedelta
from typing import Annotated

import typer

from dothi.cli.common import console, open_database, progress_bar
from dothi.config import Settings
from dothi.connectors.mqtt import parse_broker_url
from dothi.connectors.publisher import WindowedPublisher
from dothi.core.events import EventBus
from dothi.core.logs import configure_logging
from dothi.db.engine import Database
from dothi.errors import DothiError, InvalidInput
from dothi.simulator.run import SIMULATOR, SimulationClock, Totals, run, simulator_for
from dothi.simulator.sinks import MqttSink, PipelineSink, Sink
from dothi.telemetry.pipeline import Pipeline

DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h` or `90m` as a timedelta."""
    found = DURATION.match(text.strip())
    if found is None:
        raise typer.BadParameter(f"{text!r}: write a number and d, h or m (30d, 12h, 90m)")
    return timedelta(**{UNITS[found[2]]: int(found[1])})


def _sink(settings: Settings, database: Database, clock: SimulationClock, key: str | None) -> Sink:
    """The MQTT broker when one is configured, else the in-process pipeline."""
    if not settings.mqtt_url:
        pipeline = Pipeline(database, EventBus(), clock, settings.timezone)
        return PipelineSink(pipeline, SIMULATOR)
    if clock.speed > 1:
        raise InvalidInput(
            "--speed above 1 needs the in-process pipeline: an ingest worker refuses readings "
            "observed more than 10 minutes ahead of its clock. Unset DOTHI_MQTT_URL."
        )
    address = parse_broker_url(settings.mqtt_url)
    if key is not None:  # log in as a device: the key's prefix is its username
        address = address.with_login(key[:8], key)
    return MqttSink(WindowedPublisher(address, "dothi-simulator"), settings.mqtt_tenant)


def simulate(
    speed: Annotated[
        float,
        typer.Option(min=0.1, help="Simulated seconds per real second (60: an hour per minute)"),
    ] = 1.0,
    backfill: Annotated[
        str, typer.Option(help="History to write first, as fast as possible: 30d, 12h, 90m, 0m")
    ] = "0m",
    live: Annotated[bool, typer.Option(help="Go on live after the backfill")] = True,
    seed: Annotated[int, typer.Option(help="Draws the values and faults (not the layout)")] = 1,
    api_key: Annotated[
        str | None,
        typer.Option(help="With DOTHI_MQTT_URL: publish as a device with this integration key"),
    ] = None,
) -> None:
    """Simulate the demo district's sensors: in process, or over MQTT when DOTHI_MQTT_URL is set."""
    history = parse_duration(backfill)
    settings = Settings()
    configure_logging(settings.log_json)
    database = open_database(settings)
    clock = SimulationClock(speed)
    simulator = simulator_for(database, seed, settings.timezone)
    if not simulator.layout.sensors:
        raise DothiError("No wards of Phú Nhuận (768) in the database: run `dothi demo` once.")
    sink = _sink(settings, database, clock, api_key)
    stop = threading.Event()
    # Ctrl-C or SIGTERM ends the run after the batch being stored, not in its middle.
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    where = "MQTT" if settings.mqtt_url else "the in-process pipeline"
    console.print(f"{len(simulator.layout.sensors)} sensors → {where}", highlight=False)
    totals = Totals(clock.now() - history)
    try:
        if history:
            with progress_bar() as bar:
                task = bar.add_task("backfill (minutes)", total=history.total_seconds() // 60)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                totals.add(
                    run(simulator, sink, clock, totals.resume, stop, live=False, progress=advance)
                )
        if live and not stop.is_set():
            console.print(f"live at {speed:g}× real time; Ctrl-C stops", highlight=False)
            # From where the backfill ended: the minutes it took are sent first.
            totals.add(run(simulator, sink, clock, totals.resume, stop, live=True))
    finally:
        sink.close()
        database.dispose()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    console.print(f"sent {totals.messages:,} messages, {totals.readings:,} readings")
