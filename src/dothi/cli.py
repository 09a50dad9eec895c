"""The `dothi` command: thin wrappers over services, with Rich output."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from dothi.accounts.audit import verify
from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.service import add_user_cli, ensure_admin, reset_password
from dothi.config import Settings
from dothi.core.clock import SystemClock, local_date
from dothi.core.logs import configure_logging
from dothi.db.engine import Database
from dothi.db.migrate import current_revision, head_revision, upgrade
from dothi.errors import DothiError
from dothi.places.datasets import load_bundled
from dothi.places.importer import import_geojson
from dothi.places.service import MAX_PAGE, list_units
from dothi.web.app import create_app

app = typer.Typer(
    help="dothi: smart-city Intelligent Operations Center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
places_app = typer.Typer(help="Administrative units and their boundaries.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
orgunits_app = typer.Typer(help="Organisational units work is routed to.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(places_app, name="places")
app.add_typer(audit_app, name="audit")
app.add_typer(orgunits_app, name="orgunits")

console = Console()
DEMO_ROOT = "768"  # Quận Phú Nhuận, the seeds' demo district


def _open(settings: Settings) -> Database:
    """The configured database, migrated to the newest schema."""
    database = Database.from_settings(settings)
    upgrade(database.engine)
    return database


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration."""
    database = Database.from_settings(Settings())
    before = current_revision(database.engine)
    upgrade(database.engine)
    console.print(f"Database schema: {before or 'empty'} → {head_revision()}")


@places_app.command("import")
def places_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON file")],
) -> None:
    """Load administrative units from a GeoJSON FeatureCollection."""
    database = _open(Settings())
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"Importing {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with database.write() as session:
            result = import_geojson(session, file, progress=advance)
    console.print(f"{result.created} created, {result.updated} updated")


@places_app.command("list")
def places_list(
    level: Annotated[str | None, typer.Option(help="Only this level, e.g. ward")] = None,
    search: Annotated[str | None, typer.Option(help="Name, with or without diacritics")] = None,
) -> None:
    """Show the administrative units valid today, as a table."""
    settings = Settings()
    database = _open(settings)
    today = local_date(SystemClock().now(), settings.timezone)
    with database.read() as session:
        units = list_units(session, level=level, q=search, at=today, limit=MAX_PAGE)
    table = Table("code", Column("name", no_wrap=True), "level", "population", "km²")
    table.add_column("valid", no_wrap=True)
    table.add_column("boundary")
    for unit in units:
        estimated = "≈" if unit.population_estimated else ""
        table.add_row(
            unit.code,
            "  " * unit.depth + unit.name,
            unit.level,
            f"{estimated}{unit.population:,}" if unit.population else "",
            f"{unit.area_km2:.3f}" if unit.area_km2 else "",
            f"{unit.valid_from} → {unit.valid_to or ''}",
            str(unit.attributes.get("boundary", "")),
        )
    console.print(table)


@orgunits_app.command("import")
def orgunits_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Directory JSON")],
) -> None:
    """Create or update organisational units from a directory file (by code)."""
    settings = Settings()
    database = _open(settings)
    with database.write() as session:
        result = import_directory(session, SYSTEM, file, SystemClock(), settings.timezone)
    console.print(f"{result.created} created, {result.updated} updated")


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin, leader, operator, officer or citizen")],
    scope: Annotated[list[str], typer.Option(help="Code of an admin unit the user sees")] = [],  # noqa: B006
    org_unit: Annotated[
        str | None, typer.Option(help="Code of the user's organisational unit")
    ] = None,
    full_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user; the password is generated and printed once."""
    database = _open(Settings())
    with database.write() as session:
        password = add_user_cli(session, username, role, scope, org_unit, full_name)
    console.print(f"User {username} created. Password: [bold]{password}[/bold]")


@user_app.command("passwd")
def user_passwd(username: str) -> None:
    """Give a user a new random password and print it once."""
    database = _open(Settings())
    with database.write() as session:
        password = reset_password(session, username)
    console.print(f"New password of {username}: [bold]{password}[/bold]")


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option(help="A head hash printed earlier: the chain must still hold that entry"),
    ] = None,
) -> None:
    """Check the hash chain of the audit log; print its length and head hash.

    Exits 1 naming the first broken row, or when `--head` is not in the chain
    (its newest entries were removed). Keep the head hash somewhere else.
    """
    database = _open(Settings())
    with database.read() as session:
        result = verify(session, head)
    if result.broken_id is not None:
        console.print(f"[red]Audit chain broken at entry {result.broken_id}[/red]: {result.reason}")
        raise typer.Exit(1)
    summary = f"{result.checked} entries, head {result.last_hash}"
    if result.head_found is False:
        console.print(
            f"[red]Head {head} is not in the chain[/red] ({summary}): entries were removed",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"[green]Audit chain intact[/green]: {summary}", highlight=False, soft_wrap=True)


def _serve(settings: Settings, database: Database | None = None, workers: int = 1) -> None:
    if workers > 1:
        uvicorn.run(
            "dothi.web.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            access_log=False,
        )
        return
    uvicorn.run(
        create_app(settings, database=database),
        host=settings.host,
        port=settings.port,
        access_log=False,
    )


@app.command()
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


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Folder of the demo database")] = Path("data"),
) -> None:
    """Run the demo district (Phú Nhuận, 15 wards) on SQLite: one process, nothing to install."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'dothi.sqlite3'}",
        secret_key=_demo_secret(data_dir),
        root_unit=DEMO_ROOT,
        port=port,
    )
    configure_logging(settings.log_json)
    database = _open(settings)
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], SystemClock(), settings.timezone)
        password = ensure_admin(session)
    if password:
        console.print(f"Admin password: {password}", highlight=False, soft_wrap=True)
    else:
        console.print(
            "User admin exists; its password was printed when it was created. A new one: "
            f"DOTHI_DATABASE_URL={settings.database_url} dothi user passwd admin",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"dothi demo: http://{settings.host}:{settings.port}/login")
    _serve(settings, database)


def main() -> None:
    """Run the command; a refused input is a one-line message and exit code 2, not a traceback."""
    try:
        app()
    except DothiError as error:
        console.print(f"[red]Error:[/red] {error.message}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
