"""Property-based fuzzing of the NGSI-LD API from its OpenAPI schema: never a 5xx.

Schemathesis generates valid and invalid requests for every `/ngsi-ld/v1` operation and
sends them with an integration key to the app on a SQLite copy of the demo district.
"""

from __future__ import annotations

from pathlib import Path

from schemathesis.checks import not_a_server_error

from dothi.db.engine import Database
from tests.telemetry.helpers import integration_key
from tests.web.fuzzing import demo_schema, fuzz


def _integration(database: Database) -> dict[str, str]:
    return {"X-API-Key": integration_key(database)}


def test_ngsi_ld_never_answers_5xx(sqlite_template: Path, tmp_path: Path) -> None:
    """Every NGSI-LD operation, valid and invalid input: a 2xx or a 4xx, never a 5xx."""
    with demo_schema(sqlite_template, tmp_path, _integration) as (schema, headers):
        count, statuses = fuzz(schema, "/ngsi-ld/v1/", headers, [not_a_server_error], examples=30)
    assert count >= 14
    assert any(status < 300 for status in statuses)
    assert any(400 <= status < 500 for status in statuses)
