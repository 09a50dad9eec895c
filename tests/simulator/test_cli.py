"""`dothi simulate` as an operator runs it: a backfill with a progress bar, no live part."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from dothi.cli import app
from dothi.config import Settings
from dothi.db.engine import Database
from dothi.telemetry.models import Entity, Observation


def test_a_backfill_without_live_writes_history_and_returns(
    demo_db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOTHI_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(app, ["simulate", "--backfill", "20m", "--no-live", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "308 sensors → the in-process pipeline" in result.output
    with demo_db.read() as session:
        stations = session.scalar(
            select(func.count()).select_from(Entity).where(Entity.type == "AirQualityObserved")
        )
        stored = session.scalar(select(func.count()).select_from(Observation)) or 0
    assert stations == 15
    assert f"{stored:,} readings" in result.output


def test_a_backfill_needs_a_duration_it_can_read(
    demo_db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOTHI_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(app, ["simulate", "--backfill", "a month"])
    assert result.exit_code == 2
    assert "30d, 12h, 90m" in result.output
