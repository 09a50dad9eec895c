"""`dothi cameras …`: the camera registry from the command line, the roads they watch, and
`dothi worker camera-health`, the monitor that probes them."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.lifecycle import Policy
from dothi.cameras import service
from dothi.cameras.csvio import read_cameras_csv
from dothi.cli.common import console, open_database
from dothi.cli.telemetry import worker_app
from dothi.config import Settings
from dothi.core.clock import SystemClock, local_date
from dothi.core.events import EventBus
from dothi.core.logs import configure_logging
from dothi.telemetry.pipeline import Pipeline
from dothi.workers.camera_health import INTERVAL, HealthMonitor, run_monitor

cameras_app = typer.Typer(help="Cameras: import, list, road coverage.", no_args_is_help=True)


@cameras_app.command("import")
def cameras_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of cameras")],
) -> None:
    """Create or replace cameras from a CSV file (UTF-8, a header row), by code; all or none."""
    settings = Settings()
    rows = read_cameras_csv(file.read_text(encoding="utf-8"))
    database = open_database(settings)
    with database.write() as session:
        done = service.import_cameras(session, SYSTEM, rows, SystemClock(), settings.timezone)
    console.print(f"{done.created} created, {done.updated} updated")


@cameras_app.command("list")
def cameras_list(
    ward: Annotated[list[str] | None, typer.Option(help="Ward codes")] = None,
) -> None:
    """A table of the cameras: code, ward, purposes, health."""
    settings = Settings()
    database = open_database(settings)
    day = local_date(SystemClock().now(), settings.timezone)
    table = Table("code", "name", "ward", "purposes", "health", "since")
    with database.read() as session:
        for camera in service.list_cameras(session, SYSTEM, service.CameraQuery(ward or []), day):
            out = service.camera_out(session, camera)
            since = f"{out.health_since:%Y-%m-%d %H:%M}" if out.health_since else ""
            purposes = ", ".join(out.purposes)
            table.add_row(out.code, out.name, out.ward_name or "", purposes, out.health, since)
    console.print(table)


@cameras_app.command("coverage")
def cameras_coverage() -> None:
    """The share of the main roads that some active camera watches, per ward and in all."""
    settings = Settings()
    database = open_database(settings)
    day = local_date(SystemClock().now(), settings.timezone)
    with database.read() as session:
        found = service.road_coverage_of(session, SYSTEM, day)
    table = Table("ward", "main roads (m)", "watched (m)", "share")
    for code, share in [*sorted(found.wards.items()), ("all", found.total)]:
        ratio = f"{share.ratio:.0%}" if share.ratio is not None else "—"
        table.add_row(code, f"{share.length_m:,.0f}", f"{share.watched_m:,.0f}", ratio)
    console.print(table)


@worker_app.command("camera-health")
def worker_camera_health(
    interval: Annotated[float, typer.Option(min=5, help="Seconds between rounds")] = INTERVAL,
) -> None:
    """Probe every active camera (RTSP DESCRIBE or an HTTP snapshot) and alarm the offline."""
    settings = Settings()
    configure_logging(settings.log_json)
    database = open_database(settings)
    bus, clock = EventBus(), SystemClock()
    AlarmEngine(database, bus, clock, Policy.from_settings(settings), settings.timezone).attach()
    monitor = HealthMonitor(database, Pipeline(database, bus, clock, settings.timezone), clock)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_monitor(monitor, stop, interval)
    finally:
        database.dispose()
