"""Writing readings: observations stored once, latest values kept up, changed hours marked.

This is the hot path of the platform, so Python only hands rows to a temporary
stage table in bulk (executemany on SQLite, COPY on PostgreSQL); set-based
statements then move what is new into `observations`, move each attribute's
latest value forward and mark the hours that received data, so that the work per
reading is the database's. Idempotent on (attribute, observedAt): a redelivered
message changes nothing. The hourly rollups are folded later from the marks
(`rollups.py`), off the hot path.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dothi.telemetry.messages import Reading
from dothi.telemetry.models import EntityAttribute
from dothi.telemetry.partitions import ensure_months, month_of

Row = tuple[int, datetime | str, float | None, str | None, str | None]
"""series id, observedAt (text on SQLite), number, text, unitCode."""
Moved = list[tuple[int, int, datetime | str]]
"""Per attribute with new rows: its id, how many, the newest time (text on SQLite)."""
# Rows no newer than their attribute's latest value may be stored already (a redelivery,
# a backfill): they go through a stage, and only those missing move. They never move
# the latest value.
_SQLITE_LATE = (
    "DELETE FROM temp.stage WHERE EXISTS (SELECT 1 FROM observations o "
    "WHERE o.attribute_id = stage.attribute_id AND o.observed_at = stage.observed_at)",
    "INSERT INTO observations (attribute_id, observed_at, number, text) "
    "SELECT attribute_id, observed_at, number, text FROM temp.stage "
    "ORDER BY attribute_id, observed_at",
    "INSERT INTO rollup_marks (hour) "
    "SELECT DISTINCT substr(observed_at, 1, 13) || ':00:00.000000' FROM temp.stage",
)
_SQLITE_STORED = "SELECT attribute_id, count(*), max(observed_at) FROM temp.stage GROUP BY 1"
_SQLITE_LATEST = (
    "UPDATE entity_attributes SET observed_at = ?, number = ?, text = ?, "
    "unit_code = COALESCE(?, unit_code) WHERE id = ?"
)
_PG_LATE = """
WITH new AS (
  INSERT INTO observations
  SELECT attribute_id, observed_at, number, text FROM stage ORDER BY attribute_id, observed_at
  ON CONFLICT DO NOTHING
  RETURNING attribute_id, observed_at
), marks AS (
  INSERT INTO rollup_marks (hour)
  SELECT DISTINCT date_trunc('hour', observed_at, 'UTC') FROM new
)
SELECT attribute_id, count(*), max(observed_at) FROM new GROUP BY attribute_id
"""
# Another writer may have moved a latest value further meanwhile: only forward.
_PG_LATEST = """
UPDATE entity_attributes a
SET observed_at = n.observed_at, number = n.number, text = n.text,
    unit_code = COALESCE(n.unit_code, a.unit_code)
FROM stage n
WHERE a.id = n.attribute_id AND (a.observed_at IS NULL OR a.observed_at < n.observed_at)
"""


@dataclass(slots=True)
class Stored:
    """What a batch of readings added: how many, which attributes of which entities, up to when."""

    count: int = 0
    changes: dict[str, set[str]] = field(default_factory=dict)
    newest: datetime | None = None


@lru_cache(maxsize=65_536)  # the attributes of a message share one time: format it once
def sqlite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite, so that both read the same text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=65_536)
def _from_sqlite(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def store_readings(session: Session, readings: Sequence[Reading]) -> Stored:
    """Store readings of existing entities; duplicates of stored ones are ignored."""
    if not readings:
        return Stored()
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    series = _series(session, cursor, readings, postgres)
    if postgres:
        ensure_months(session, {month_of(at) for at in {r.observed_at for r in readings}})
    stamp = _as_is if postgres else sqlite_time
    fresh: dict[tuple[int, datetime | str], Row] = {}
    late: dict[tuple[int, datetime | str], Row] = {}
    for entity_id, attribute, observed_at, value, unit_code in readings:
        series_id, latest = series[entity_id, attribute]
        at = stamp(observed_at)
        rows = fresh if latest is None or at > latest else late  # type: ignore[operator]
        if (series_id, at) not in rows:
            number = value if isinstance(value, float) else None
            word = value if isinstance(value, str) else None
            rows[series_id, at] = (series_id, at, number, word, unit_code)
    store = _store_postgres if postgres else _store_sqlite
    moved = store(
        cursor, [fresh[key] for key in sorted(fresh)], [late[key] for key in sorted(late)]
    )
    names = {series_id: key for key, (series_id, _) in series.items()}
    stored = Stored()
    for series_id, count, newest in moved:
        entity_id, attribute = names[series_id]
        stored.changes.setdefault(entity_id, set()).add(attribute)
        stored.count += count
        when = newest if isinstance(newest, datetime) else _from_sqlite(newest)
        if stored.newest is None or when > stored.newest:
            stored.newest = when
    return stored


def _as_is(moment: datetime) -> datetime:
    return moment


def _series(
    session: Session, cursor: Any, readings: Iterable[Reading], postgres: bool
) -> dict[tuple[str, str], tuple[int, datetime | str | None]]:
    """The attribute (series) id and latest time of every (entity, attribute), created when
    missing (the latest time is text on SQLite, as stored)."""
    wanted = {(r.entity_id, r.attribute): r.unit_code for r in readings}
    entity_ids = sorted({entity for entity, _ in wanted})
    columns = "SELECT entity_id, name, id, observed_at FROM entity_attributes "
    # The driver's own cursor: plain tuples, no result objects on the hot path.
    if postgres:
        rows = cursor.execute(columns + "WHERE entity_id = ANY(%s)", (entity_ids,))
    else:
        ids = json.dumps(entity_ids)
        rows = cursor.execute(
            columns + "WHERE entity_id IN (SELECT value FROM json_each(?))", (ids,)
        )
    found = {(entity, name): (series, latest) for entity, name, series, latest in rows.fetchall()}
    missing = wanted.keys() - found.keys()
    if missing:
        # Another writer (a second ingest worker) may create the same series meanwhile.
        insert = postgresql.insert if postgres else sqlite.insert
        session.execute(
            insert(EntityAttribute).on_conflict_do_nothing(),
            [{"entity_id": e, "name": n, "unit_code": wanted[e, n]} for e, n in sorted(missing)],
        )
        return _series(session, cursor, readings, postgres)
    return found


def _store_sqlite(cursor: Any, fresh: list[Row], late: list[Row]) -> Moved:
    """Insert the fresh rows and move their latest values; stage the late ones and move
    those missing. SQLite has one writer at a time: nobody can store a row meanwhile."""
    moved = _all_new(fresh)
    if fresh:
        cursor.executemany(
            "INSERT INTO observations (attribute_id, observed_at, number, text) "
            "VALUES (?, ?, ?, ?)",
            [row[:4] for row in fresh],
        )
        newest = {row[0]: row for row in fresh}  # key order: the newest of each comes last
        cursor.executemany(
            _SQLITE_LATEST,
            [(at, number, text, unit, id_) for id_, at, number, text, unit in newest.values()],
        )
        hours = {f"{at[:13]}:00:00.000000" for at in {row[1] for row in fresh}}  # type: ignore[index]
        cursor.executemany(
            "INSERT INTO rollup_marks (hour) VALUES (?)", [(h,) for h in sorted(hours)]
        )
    if late:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id INTEGER, observed_at TEXT, "
            "number REAL, text TEXT, unit_code TEXT)"
        )
        cursor.executemany("INSERT INTO temp.stage VALUES (?, ?, ?, ?, ?)", late)
        for statement in _SQLITE_LATE:
            cursor.execute(statement)
        moved += cursor.execute(_SQLITE_STORED).fetchall()
        cursor.execute("DELETE FROM temp.stage")
    return moved


def _store_postgres(cursor: Any, fresh: list[Row], late: list[Row]) -> Moved:
    """COPY the fresh rows straight into `observations` and move their latest values; the
    late ones (and the fresh ones too if another writer stored one meanwhile) go through a
    stage, and only those missing move.

    Rows go in key order, so that concurrent writers never wait on each other in a circle.
    """
    moved: Moved = []
    if fresh:
        cursor.execute("SAVEPOINT direct")
        try:
            with cursor.copy("COPY observations FROM STDIN") as copy:
                for row in fresh:
                    copy.write_row(row[:4])
        except UniqueViolation:  # a redelivery another worker stored first
            cursor.execute("ROLLBACK TO SAVEPOINT direct")
            late = sorted(fresh + late)
        else:
            cursor.execute("RELEASE SAVEPOINT direct")
            moved = _all_new(fresh)
            hours = sorted({_hour(at) for at in {row[1] for row in fresh}})
            cursor.executemany("INSERT INTO rollup_marks (hour) VALUES (%s)", [(h,) for h in hours])
    if late:
        _stage(cursor, late)
        moved += cursor.execute(_PG_LATE).fetchall()
        cursor.execute("DELETE FROM stage")
    if fresh:
        newest = {row[0]: row for row in fresh}  # key order: the newest of each comes last
        _stage(cursor, newest.values())
        cursor.execute(_PG_LATEST)
        cursor.execute("DELETE FROM stage")
    return moved


def _stage(cursor: Any, rows: Iterable[Row]) -> None:
    """COPY rows into this session's stage table (PostgreSQL)."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id bigint, "
        "observed_at timestamptz, number float8, text varchar(200), unit_code varchar(16))"
    )
    with cursor.copy("COPY stage FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _all_new(ordered: list[Row]) -> Moved:
    """Per attribute: how many rows, and the newest time (rows in key order, all new)."""
    counts = Counter(row[0] for row in ordered)
    newest = {row[0]: row[1] for row in ordered}
    return [(series, counts[series], at) for series, at in newest.items()]


@lru_cache(maxsize=65_536)
def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
