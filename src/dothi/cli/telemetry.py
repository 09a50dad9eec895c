"""Telemetry commands: the MQTT ingest worker and the broker's logins."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path
from typing import Annotated

import typer

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.lifecycle import Policy
from dothi.cli.common import console, open_database
from dothi.config import Settings
from dothi.connectors.mqtt import BrokerAddress, parse_broker_url
from dothi.connectors.mqtt_auth import sync_broker
from dothi.core.clock import SystemClock
from dothi.core.events import EventBus
from dothi.core.logs import configure_logging
from dothi.core.runtime import tune_garbage_collector
from dothi.errors import DothiError
from dothi.telemetry.pipeline import Pipeline
from dothi.workers.camera import CameraOptions, CameraWorker, DirectorySnapshots
from dothi.workers.ingest import BATCH_SIZE, IngestOptions, IngestWorker
from dothi.workers.notifier import AlarmNotifying, run_notifier

worker_app = typer.Typer(help="Long-running workers.", no_args_is_help=True)
mqtt_app = typer.Typer(help="The MQTT broker for devices.", no_args_is_help=True)


def _broker(settings: Settings) -> BrokerAddress:
    if not settings.mqtt_url:
        raise DothiError(
            "Set DOTHI_MQTT_URL to the broker, e.g. mqtt://dothi-ingest:pw@127.0.0.1:1883."
        )
    return parse_broker_url(settings.mqtt_url)


@worker_app.command("ingest")
def worker_ingest(
    client_id: Annotated[
        str | None,
        typer.Option(help="MQTT client id, fixed per worker: its session survives restarts."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=30_000, help="Messages per batch")
    ] = BATCH_SIZE,
    batch_wait: Annotated[
        float, typer.Option(min=0.0, help="Seconds a batch waits to fill after its first message")
    ] = 0.2,
) -> None:
    """Store device telemetry from MQTT; exactly once when payloads carry observedAt."""
    settings = Settings()
    configure_logging(settings.log_json)
    address = _broker(settings)
    database = open_database(settings)
    clock = SystemClock()
    bus = EventBus()
    pipeline = Pipeline(database, bus, clock, settings.timezone)
    # The rules are judged on each batch here, where it was stored.
    AlarmEngine(database, bus, clock, Policy.from_settings(settings), settings.timezone).attach()
    options = IngestOptions(
        client_id=client_id or f"dothi-ingest-{socket.gethostname()}",
        tenant=settings.mqtt_tenant,
        batch_size=batch_size,
        batch_wait=batch_wait,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    tune_garbage_collector()
    try:
        IngestWorker(address, pipeline.ingest, options, clock).run(stop)
    finally:
        database.dispose()


@worker_app.command("notifier")
def worker_notifier(
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Notifications per round")] = 50,
) -> None:
    """Send NGSI-LD subscription and alarm notifications from their outboxes, with retries."""
    settings = Settings()
    configure_logging(settings.log_json)
    alarms = AlarmNotifying.from_settings(settings)
    database = open_database(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_notifier(database, SystemClock(), stop, batch=batch, alarms=alarms)
    finally:
        database.dispose()


@worker_app.command("camera")
def worker_camera(
    worker: Annotated[
        str | None, typer.Option(help="This worker's name in the leases; unique per process")
    ] = None,
    max_cameras: Annotated[int, typer.Option(min=1, max=64, help="Cameras held at once")] = 4,
    snapshots: Annotated[
        Path | None, typer.Option(file_okay=False, help="Keep events' redacted snapshots here")
    ] = None,
) -> None:
    """Analyse the streams of cameras with analytics enabled, sharing them by leases."""
    settings = Settings()
    configure_logging(settings.log_json)
    database = open_database(settings)
    clock = SystemClock()
    bus = EventBus()
    pipeline = Pipeline(database, bus, clock, settings.timezone)
    AlarmEngine(database, bus, clock, Policy.from_settings(settings), settings.timezone).attach()
    options = CameraOptions(
        worker=worker or f"dothi-camera-{socket.gethostname()}-{os.getpid()}",
        max_cameras=max_cameras,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sink = DirectorySnapshots(snapshots) if snapshots else None
    try:
        CameraWorker(database, pipeline.ingest, options, clock, sink).run(stop)
    finally:
        database.dispose()


@mqtt_app.command("sync")
def mqtt_sync(
    password_file: Annotated[Path, typer.Option(dir_okay=False, help="Mosquitto password_file")],
    acl_file: Annotated[Path, typer.Option(dir_okay=False, help="Mosquitto acl_file")],
    pid_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Broker pid file: SIGHUP it to reload"),
    ] = None,
) -> None:
    """Write the broker's logins (live integration keys, the worker) and its ACL."""
    settings = Settings()
    database = open_database(settings)
    worker = parse_broker_url(settings.mqtt_url) if settings.mqtt_url else None
    with database.read() as session:
        result = sync_broker(
            session, SYSTEM, settings.mqtt_tenant, worker, password_file, acl_file, pid_file
        )
    database.dispose()
    console.print(
        f"{result.devices} device logins"
        + (" and the worker's" if result.worker else " (no worker login in DOTHI_MQTT_URL)")
        + f" written to {password_file} and {acl_file}"
        + ("; broker reloaded" if result.reloaded else "")
    )
