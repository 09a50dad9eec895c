"""Schemathesis over the Open311 endpoints: no 5xx, and every answer fits the documented schema.

The requests are generated from the app's own OpenAPI document (valid and invalid ones),
sent with an integration key to the demo district with the bundled catalogue.
"""

from __future__ import annotations

from pathlib import Path

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from tests.reports.helpers import START, build_district
from tests.web.fuzzing import demo_schema, fuzz

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


def _portal(database: Database) -> dict[str, str]:
    return {"X-API-Key": build_district(database, FixedClock(START)).key}


def test_open311_never_answers_500_nor_breaks_its_schema(
    sqlite_template: Path, tmp_path: Path
) -> None:
    with demo_schema(sqlite_template, tmp_path, _portal) as (schema, headers):
        count, statuses = fuzz(schema, "/open311/", headers, CHECKS, examples=40)
    assert count == 8
    assert any(status < 300 for status in statuses)
    assert any(400 <= status < 500 for status in statuses)
