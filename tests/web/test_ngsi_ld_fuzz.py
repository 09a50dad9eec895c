"""Property-based fuzzing of /ngsi-ld/v1 from the OpenAPI schema: never a 5xx.

Schemathesis sends valid and invalid requests to every NGSI-LD operation, with the
demo's integration key, on a SQLite copy of the demo district.
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
from tests.telemetry.helpers import integration_key

KEY: dict[str, str] = {}
STATUSES: list[int] = []


@pytest.fixture
def ngsi_schema(sqlite_template: Path, tmp_path: Path) -> Iterator[schemathesis.schemas.BaseSchema]:
    target = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    KEY.update({"X-API-Key": integration_key(database)})
    app = create_app(Settings(database_url=f"sqlite:///{target}"), database=database)
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    database.dispose()


def test_ngsi_ld_never_answers_5xx(ngsi_schema: schemathesis.schemas.BaseSchema) -> None:
    """Every NGSI-LD operation, valid and invalid input: a 2xx or a 4xx, never a 5xx."""
    operations = [
        result.ok()
        for result in ngsi_schema.get_all_operations()
        if isinstance(result, Ok) and result.ok().path.startswith("/ngsi-ld/v1/")
    ]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            STATUSES.append(
                case.call_and_validate(headers=KEY, checks=[not_a_server_error]).status_code
            )

        no_server_error()
    assert any(status < 300 for status in STATUSES)
    assert any(400 <= status < 500 for status in STATUSES)
