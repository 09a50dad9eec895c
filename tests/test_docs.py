"""Docs are tested: a setting or command that nobody documented fails the build."""

from __future__ import annotations

from pathlib import Path

import typer.main

from dothi.accounts.permissions import PERMISSIONS
from dothi.cli import app
from dothi.config import Settings

ROOT = Path(__file__).parents[1]


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    click_group = typer.main.get_group(group)
    names = []
    for name, command in click_group.commands.items():
        sub = getattr(command, "commands", None)
        if sub:
            names += [f"{prefix}{name} {child}" for child in sub]
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"DOTHI_{name.upper()}"
        for name in Settings.model_fields
        if f"DOTHI_{name.upper()}" not in readme
    ]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_every_cli_command_is_in_the_cli_reference() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    commands = _commands(app)
    assert "demo" in commands and "audit verify" in commands
    missing = [c for c in commands if f"dothi {c}" not in reference]
    assert not missing, f"commands not documented in docs/cli.md: {missing}"


def test_every_permission_is_in_the_accounts_page() -> None:
    page = (ROOT / "docs" / "accounts.md").read_text()
    missing = [name for name in PERMISSIONS if f"`{name}`" not in page]
    assert not missing, f"permissions not documented in docs/accounts.md: {missing}"
