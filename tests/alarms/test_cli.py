"""`dothi rules import|export|list` on both backends, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dothi.alarms.io import DEFAULTS, load_rules_yaml
from dothi.cli import app
from dothi.db.engine import Database


@pytest.fixture
def run(database_url: str) -> CliRunner:
    return CliRunner(env={"DOTHI_DATABASE_URL": database_url})


def test_rules_go_in_from_a_file_and_come_out_the_same(
    run: CliRunner, db: Database, tmp_path: Path
) -> None:
    source = Path(__file__).parents[2] / "src" / "dothi" / "alarms" / DEFAULTS
    first = run.invoke(app, ["rules", "import", str(source)])
    assert first.exit_code == 0, first.output
    defaults = load_rules_yaml(source.read_text(encoding="utf-8"))
    assert f"{len(defaults)} created, 0 replaced" in first.output
    assert "0 created" in run.invoke(app, ["rules", "import", str(source)]).output
    exported = tmp_path / "rules.yaml"
    assert run.invoke(app, ["rules", "export", str(exported)]).exit_code == 0
    assert sorted(load_rules_yaml(exported.read_text()), key=lambda r: r.code) == sorted(
        defaults, key=lambda r: r.code
    )
    listed = run.invoke(app, ["rules", "list"])
    assert "flood-level" in listed.output and "currentLevel" in listed.output


def test_an_invalid_rule_file_is_refused_in_one_line_and_nothing_is_stored(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(
        "rules:\n"
        "  - {code: ok-rule, name: Tốt, kind: no_data, entity_type: Device, wards: ['*'],"
        " silent_seconds: 60, severity: warning}\n"
        "  - {code: bad-rule, name: Hỏng, kind: no_data, entity_type: Device, wards: [],"
        " silent_seconds: 60, severity: warning}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DOTHI_DATABASE_URL": database_url}
    answer = subprocess.run(
        [sys.executable, "-m", "dothi", "rules", "import", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 2, answer.stdout + answer.stderr
    assert "bad-rule" in answer.stdout and "wards" in answer.stdout
    assert "Traceback" not in answer.stdout + answer.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "dothi", "rules", "list"], env=env, capture_output=True, text=True
    )
    assert "ok-rule" not in listed.stdout  # all or none
