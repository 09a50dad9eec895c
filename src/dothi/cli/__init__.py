"""The `dothi` command: thin wrappers over services, with Rich output."""

from __future__ import annotations

import typer

from dothi.cli import admin, alarms, cameras, run, simulate, telemetry
from dothi.cli.common import console
from dothi.errors import DothiError

app = typer.Typer(
    help="dothi: smart-city Intelligent Operations Center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(run.serve)
app.command()(run.demo)
app.command()(simulate.simulate)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.places_app, name="places")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(admin.orgunits_app, name="orgunits")
app.add_typer(telemetry.worker_app, name="worker")
app.add_typer(telemetry.mqtt_app, name="mqtt")
app.add_typer(alarms.rules_app, name="rules")
app.add_typer(cameras.cameras_app, name="cameras")


def main() -> None:
    """Run the command; a refused input is a one-line message and exit code 2, not a traceback."""
    try:
        app()
    except DothiError as error:
        console.print(f"[red]Error:[/red] {error.message}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
