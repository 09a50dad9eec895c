"""The `dothi` command on both backends, run as an operator would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dothi.accounts.apikeys import authenticate_api_key
from dothi.accounts.directory import BUNDLED
from dothi.accounts.identity import authenticate
from dothi.cli import app
from dothi.config import Settings
from dothi.core.clock import SystemClock
from dothi.db.engine import Database
from dothi.db.migrate import head_revision
from dothi.places.datasets import dataset_path


@pytest.fixture
def run(database_url: str) -> CliRunner:
    return CliRunner(env={"DOTHI_DATABASE_URL": database_url})


def test_db_upgrade_is_idempotent(run: CliRunner) -> None:
    first = run.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"→ {head_revision()}" in first.output
    assert run.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_places_import_creates_then_updates(run: CliRunner, db: Database) -> None:
    source = str(dataset_path("phu-nhuan"))
    first = run.invoke(app, ["places", "import", source])
    assert first.exit_code == 0, first.output
    assert "17 created, 0 updated" in first.output
    again = run.invoke(app, ["places", "import", source])
    assert "0 created, 17 updated" in again.output
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM admin_units")).scalar_one() == 17


def test_places_import_refuses_a_broken_file_with_a_message(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    answer = subprocess.run(
        [sys.executable, "-m", "dothi", "places", "import", str(broken)],
        env={**os.environ, "DOTHI_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 2
    assert "Error: feature 1 (unnamed): code: Field required" in answer.stdout
    assert "Traceback" not in answer.stdout + answer.stderr
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM admin_units")).scalar_one() == 0


def test_user_add_prints_a_password_that_works(run: CliRunner, db: Database) -> None:
    run.invoke(app, ["places", "import", str(dataset_path("phu-nhuan"))])
    answer = run.invoke(app, ["user", "add", "can.bo.p7", "--role", "officer", "--scope", "27052"])
    assert answer.exit_code == 0, answer.output
    password = re.search(r"Password: (\S+)", answer.output)
    assert password
    with db.write() as session:
        user = authenticate(session, "can.bo.p7", password.group(1), SystemClock())
        assert user is not None and user.role == "officer"


def test_audit_verify_names_the_changed_row(run: CliRunner, db: Database) -> None:
    run.invoke(app, ["places", "import", str(dataset_path("phu-nhuan"))])
    for name in ("a", "b", "c"):
        run.invoke(app, ["user", "add", f"user.{name}", "--role", "operator", "--scope", "768"])
    intact = run.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    with db.write() as session:
        session.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE id = 2"))
    broken = run.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "entry 2" in broken.output


def test_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DOTHI_SECRET_KEY"}
    env["DOTHI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    answer = subprocess.run(
        [sys.executable, "-m", "dothi", "serve"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert answer.returncode == 2
    assert "Set DOTHI_SECRET_KEY" in answer.stdout


def test_orgunits_import_loads_the_directory(run: CliRunner) -> None:
    run.invoke(app, ["places", "import", str(dataset_path("phu-nhuan"))])
    answer = run.invoke(app, ["orgunits", "import", str(BUNDLED["phu-nhuan"])])
    assert answer.exit_code == 0, answer.output
    assert "49 created, 0 updated" in answer.output


def test_places_list_finds_wards_without_diacritics(run: CliRunner) -> None:
    run.invoke(app, ["places", "import", str(dataset_path("phu-nhuan"))])
    answer = run.invoke(app, ["places", "list", "--search", "phuong 7"], terminal_width=200)
    assert answer.exit_code == 0, answer.output
    assert "27052" in answer.output and "Phường 7" in answer.output
    assert "Phường 9" not in answer.output


def test_user_key_prints_a_working_limited_key(tmp_path: Path) -> None:
    env = {"DOTHI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "gateway", "--role", "integration"], env=env)
    assert added.exit_code == 0, added.output
    result = runner.invoke(
        app, ["user", "key", "gateway", "--name", "lights", "--type", "Streetlight"], env=env
    )
    assert result.exit_code == 0, result.output
    secret = result.output.rsplit(":", 1)[1].strip()
    database = Database.from_settings(Settings(database_url=env["DOTHI_DATABASE_URL"]))
    with database.read() as session:
        match = authenticate_api_key(session, secret)
    database.dispose()
    assert match is not None and match.principal.entity_types == frozenset({"Streetlight"})
    unknown = runner.invoke(app, ["user", "key", "nobody", "--name", "x"], env=env)
    assert unknown.exit_code != 0
