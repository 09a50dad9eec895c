"""`dothi rules …`: the alarm rules of a deployment as YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dothi.accounts.permissions import SYSTEM
from dothi.alarms import catalogue
from dothi.alarms.io import dump_rules_yaml, load_rules_yaml
from dothi.cli.common import console, open_database
from dothi.config import Settings
from dothi.core.clock import SystemClock

rules_app = typer.Typer(help="Alarm rules: import, export and list them.", no_args_is_help=True)


@rules_app.command("import")
def rules_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML of rules")],
) -> None:
    """Create or replace rules from a YAML file, by code; all or none."""
    settings = Settings()
    rules = load_rules_yaml(file.read_text(encoding="utf-8"))
    database = open_database(settings)
    with database.write() as session:
        done = catalogue.import_rules(session, SYSTEM, rules, SystemClock(), settings.timezone)
    console.print(f"{len(done.created)} created, {len(done.replaced)} replaced")


@rules_app.command("export")
def rules_export(
    file: Annotated[
        Path | None, typer.Argument(dir_okay=False, help="Where; default: print")
    ] = None,
) -> None:
    """Write every rule as YAML, ready to edit and import again."""
    database = open_database(Settings())
    with database.read() as session:
        rules = [catalogue.definition(rule) for rule in catalogue.list_rules(session, SYSTEM)]
    text = dump_rules_yaml(rules)
    if file is None:
        console.print(text, highlight=False, markup=False, end="")
    else:
        file.write_text(text, encoding="utf-8")
        console.print(f"{len(rules)} rules written to {file}")


@rules_app.command("list")
def rules_list() -> None:
    """A table of the rules: code, kind, type, attribute, enabled."""
    database = open_database(Settings())
    with database.read() as session:
        rules = catalogue.list_rules(session, SYSTEM)
    table = Table("code", "kind", "entity type", "attribute", "enabled", "name")
    for rule in rules:
        definition = rule.definition
        table.add_row(
            rule.code,
            rule.kind,
            rule.entity_type,
            str(definition.get("attribute") or definition.get("second", {}).get("attribute", "")),
            "yes" if rule.enabled else "no",
            str(definition.get("name", "")),
        )
    console.print(table)
