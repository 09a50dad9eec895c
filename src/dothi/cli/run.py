"""Running dothi: the web server, and the demo district in one process."""

from __future__ import annotations

import secrets
import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from dothi.accounts.apikeys import ensure_integration_key
from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.service import ensure_admin
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.io import default_rules
from dothi.cli.common import console, open_database
from dothi.config import Settings
from dothi.core.clock import SystemClock
from dothi.core.logs import configure_logging
from dothi.core.runtime import tune_garbage_collector
from dothi.errors import DothiError
from dothi.places.datasets import load_bundled
from dothi.reports.bundled import load_bundled as load_report_catalogue
from dothi.simulator.cameras import load_demo_cameras
from dothi.simulator.incidents import load_demo_incidents
from dothi.simulator.run import Background
from dothi.telemetry.pipeline import Pipeline
from dothi.web.app import create_app
from dothi.workers.notifier import AlarmNotifying, run_notifier

DEMO_ROOT = "768"  # Quận Phú Nhuận, the seeds' demo district
GRACEFUL_SHUTDOWN = 5
"""Seconds a stopping server waits for open requests; live streams would hold it forever."""
DEMO_HISTORY = timedelta(days=1)
"""Simulated history written at start-up (in the background): charts have a day to show."""


def _serve(settings: Settings, workers: int = 1) -> None:
    if workers > 1:
        uvicorn.run(
            "dothi.web.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
        return
    app = create_app(settings)
    tune_garbage_collector()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


def serve(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
) -> None:
    """Serve the web app and APIs with the configured settings (DOTHI_* / dothi.toml)."""
    settings = Settings()
    if "secret_key" not in settings.model_fields_set:
        # A key made up per process would log users out at every restart, and with
        # several workers each would refuse the others' cookies.
        raise DothiError("Set DOTHI_SECRET_KEY to a long random string (see the README).")
    configure_logging(settings.log_json)
    _serve(settings, workers=workers)


def _demo_secret(data_dir: Path) -> str:
    """The demo's cookie-signing key, kept in the data folder so logins survive a restart."""
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _print_secret(label: str, secret: str | None, user: str, noun: str, renew: str) -> None:
    """A secret printed once, when created; later, how to get a new one."""
    if secret:
        console.print(f"{label}: {secret}", highlight=False, soft_wrap=True)
        return
    console.print(
        f"User {user} exists; its {noun} was printed when it was created. A new one: {renew}",
        highlight=False,
        soft_wrap=True,
    )


def demo(
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Folder of the demo database")] = Path("data"),
    seed: Annotated[int, typer.Option(help="Seed of the simulated sensors' values")] = 1,
) -> None:
    """Run the demo district (Phú Nhuận, 15 wards) on SQLite: one process, nothing to install."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'dothi.sqlite3'}",
        secret_key=_demo_secret(data_dir),
        root_unit=DEMO_ROOT,
        port=port,
        public_context_data=True,
    )
    configure_logging(settings.log_json)
    database = open_database(settings)
    clock = SystemClock()
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock, settings.timezone)
        load_report_catalogue(session, clock)
        ensure_rules(session, default_rules(), SYSTEM, clock, settings.timezone)
        camera_health = load_demo_cameras(session, clock, settings.timezone, DEMO_ROOT)
        load_demo_incidents(session, clock, settings.timezone, DEMO_ROOT)
        password = ensure_admin(session)
        api_key = ensure_integration_key(session, clock)
    database_url = f"DOTHI_DATABASE_URL={settings.database_url}"
    _print_secret(
        "Admin password", password, "admin", "password", f"{database_url} dothi user passwd admin"
    )
    _print_secret(
        "API key",
        api_key,
        "integration",
        "API key",
        f"{database_url} dothi user key integration --name demo --provision",
    )
    app = create_app(settings, database=database)
    # The sensors write on the app's bus, so that live views and rules hear of them.
    simulation = Background(database, app.state.bus, settings.timezone, seed, DEMO_HISTORY)
    if camera_health:  # the first start: the cameras' health reaches the rules
        Pipeline(database, app.state.bus, clock, settings.timezone).ingest(camera_health)
    # Webhooks and NGSI-LD subscriptions are served in the demo too, as the worker would.
    notifying = threading.Event()
    notifier = threading.Thread(
        target=run_notifier,
        args=(database, clock, notifying),
        kwargs={"alarms": AlarmNotifying.from_settings(settings)},
        name="notifier",
        daemon=True,
    )
    console.print(f"dothi demo: http://{settings.host}:{settings.port}/login")
    # uvicorn stops on SIGTERM and then raises it again: exit through `finally`, not at once.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    simulation.start()
    notifier.start()
    tune_garbage_collector()
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
    finally:
        notifying.set()
        simulation.stop()
        notifier.join(timeout=30)
        database.dispose()
