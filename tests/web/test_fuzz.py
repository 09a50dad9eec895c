"""Property-based fuzzing of the JSON API from its own OpenAPI schema: never a 500.

Schemathesis generates valid and invalid requests for every operation and sends them,
as the administrator (API key), to the app on a SQLite copy of the demo district.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from dothi.web.app import create_app
from tests.helpers import admin_api_key

ADMIN_KEY: dict[str, str] = {}
STATUSES: list[int] = []


@pytest.fixture
def api_schema(sqlite_template: Path, tmp_path: Path) -> Iterator[schemathesis.schemas.BaseSchema]:
    target = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    ADMIN_KEY.update(admin_api_key(database))
    app = create_app(Settings(database_url=f"sqlite:///{target}"), database=database)
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    database.dispose()


def test_api_never_answers_500(api_schema: schemathesis.schemas.BaseSchema) -> None:
    """Every operation, valid and invalid input: a 4xx with a message, never a 5xx."""
    operations = [r.ok() for r in api_schema.get_all_operations() if isinstance(r, Ok)]
    assert len(operations) >= 15  # places, users, org units, audit, system

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            STATUSES.append(
                case.call_and_validate(headers=ADMIN_KEY, checks=[not_a_server_error]).status_code
            )

        no_server_error()
    # The fuzzing reached the routes: both accepted and refused requests were sent.
    assert any(status < 300 for status in STATUSES)
    assert any(400 <= status < 500 for status in STATUSES)
