"""Schemathesis over the Open311 endpoints: no 5xx, and every answer fits the documented schema.

The requests are generated from the app's own OpenAPI document (valid and invalid ones),
sent with an integration key to the demo district with the bundled catalogue.
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
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from dothi.web.app import create_app
from tests.reports.helpers import START, build_district

KEY: dict[str, str] = {}
STATUSES: list[int] = []
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


@pytest.fixture
def open311_schema(
    sqlite_template: Path, tmp_path: Path
) -> Iterator[schemathesis.schemas.BaseSchema]:
    target = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    KEY["X-API-Key"] = build_district(database, FixedClock(START)).key
    app = create_app(Settings(database_url=f"sqlite:///{target}"), database=database)
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    database.dispose()


def test_open311_never_answers_500_nor_breaks_its_schema(
    open311_schema: schemathesis.schemas.BaseSchema,
) -> None:
    operations = [
        result.ok()
        for result in open311_schema.get_all_operations()
        if isinstance(result, Ok) and result.ok().path.startswith("/open311/")
    ]
    assert len(operations) == 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case[Any]) -> None:
            STATUSES.append(case.call_and_validate(headers=KEY, checks=CHECKS).status_code)

        conforms()
    assert any(status < 300 for status in STATUSES)
    assert any(400 <= status < 500 for status in STATUSES)
