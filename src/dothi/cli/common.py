"""What the CLI's commands share: the console, the database opener, a progress bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dothi.config import Settings
from dothi.core.clock import SystemClock
from dothi.db.engine import Database
from dothi.db.migrate import upgrade
from dothi.telemetry.partitions import ensure_ahead

console = Console()


def open_database(settings: Settings) -> Database:
    """The configured database, migrated, with the partitions of the coming months."""
    database = Database.from_settings(settings)
    upgrade(database.engine)
    with database.write() as session:
        ensure_ahead(session, SystemClock().now())
    return database


def progress_bar() -> Progress:
    """A bar with a description, done/total and the elapsed time, for long work."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
