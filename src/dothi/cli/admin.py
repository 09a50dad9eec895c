"""Administration commands: schema, places, organisational units, users, the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from dothi.accounts.apikeys import add_api_key_cli
from dothi.accounts.audit import verify
from dothi.accounts.directory import import_directory
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import ApiKeyCreate
from dothi.accounts.service import add_user_cli, reset_password
from dothi.cli.common import console, open_database, progress_bar
from dothi.config import Settings
from dothi.core.clock import SystemClock, local_date
from dothi.db.engine import Database
from dothi.db.migrate import current_revision, head_revision, upgrade
from dothi.places.importer import import_geojson
from dothi.places.service import MAX_PAGE, list_units

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
places_app = typer.Typer(help="Administrative units and their boundaries.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
orgunits_app = typer.Typer(help="Organisational units work is routed to.", no_args_is_help=True)


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
    database = open_database(Settings())
    with progress_bar() as progress:
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
    database = open_database(settings)
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
    database = open_database(settings)
    with database.write() as session:
        result = import_directory(session, SYSTEM, file, SystemClock(), settings.timezone)
    console.print(f"{result.created} created, {result.updated} updated")


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin, leader, operator, officer, citizen or integration")
    ],
    scope: Annotated[list[str], typer.Option(help="Code of an admin unit the user sees")] = [],  # noqa: B006
    org_unit: Annotated[
        str | None, typer.Option(help="Code of the user's organisational unit")
    ] = None,
    full_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user; the password is generated and printed once."""
    database = open_database(Settings())
    with database.write() as session:
        password = add_user_cli(session, username, role, scope, org_unit, full_name)
    console.print(f"User {username} created. Password: [bold]{password}[/bold]")


@user_app.command("key")
def user_key(
    username: str,
    name: Annotated[str, typer.Option(help="What the key is for, e.g. the gateway's name")],
    entity_type: Annotated[
        list[str], typer.Option("--type", help="Entity type the key may write (repeat; none: any)")
    ] = [],  # noqa: B006
    provision: Annotated[bool, typer.Option(help="May create entities nobody registered")] = False,
) -> None:
    """Create an API key for a user (an integration); the key is printed once."""
    database = open_database(Settings())
    limits = ApiKeyCreate(name=name, entity_types=entity_type or None, provision=provision)
    with database.write() as session:
        secret = add_api_key_cli(session, username, limits)
    console.print(f"API key of {username}: [bold]{secret}[/bold]", highlight=False, soft_wrap=True)


@user_app.command("passwd")
def user_passwd(username: str) -> None:
    """Give a user a new random password and print it once."""
    database = open_database(Settings())
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
    database = open_database(Settings())
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
