"""Fuzzing an API from the app's own OpenAPI schema with schemathesis, as one caller."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from dothi.web.app import create_app

Check = Callable[..., Any]


@contextmanager
def demo_schema(
    sqlite_template: Path, tmp_path: Path, caller: Callable[[Database], dict[str, str]]
) -> Iterator[tuple[schemathesis.schemas.BaseSchema, dict[str, str]]]:
    """The schema of the app on a SQLite copy of the demo district, and the caller's headers."""
    target = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    headers = caller(database)
    app = create_app(Settings(database_url=f"sqlite:///{target}"), database=database)
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app), headers
    database.dispose()


def fuzz(
    schema: schemathesis.schemas.BaseSchema,
    prefix: str,
    headers: dict[str, str],
    checks: Sequence[Check],
    examples: int,
    skip: Sequence[str] = (),
) -> tuple[int, list[int]]:
    """Send generated requests to every operation under `prefix` (but the paths in
    `skip`), checked by `checks`.

    Returns how many operations there were and the statuses answered.
    """
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok)
        and result.ok().path.startswith(prefix)
        and result.ok().path not in skip
    ]
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def answers(case: schemathesis.Case[Any]) -> None:
            response = case.call_and_validate(headers=headers, checks=list(checks))
            statuses.append(response.status_code)

        answers()
    return len(operations), statuses
