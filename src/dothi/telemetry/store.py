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

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dothi.telemetry.messages import Reading
from dothi.telemetry.models import EntityAttribute, RollupMark
from dothi.telemetry.partitions import ensure_months, month_of

Row = tuple[int, datetime | str, float | None, str | None, str | None]
"""series id, observedAt (text on SQLite), number, text, unitCode."""
# The newest staged row of each attribute replaces its latest value if it is newer.
# A staged row already stored is never newer than the latest value it set.
_SQLITE_STATEMENTS = (
    "DELETE FROM temp.stage WHERE EXISTS (SELECT 1 FROM observations o "
    "WHERE o.attribute_id = stage.attribute_id AND o.observed_at = stage.observed_at)",
    "INSERT INTO observations (attribute_id, observed_at, number, text) "
    "SELECT attribute_id, observed_at, number, text FROM temp.stage "
    "ORDER BY attribute_id, observed_at",
    # One max() in a grouped query: SQLite takes the bare columns from the row holding it.
    "UPDATE entity_attributes AS a SET observed_at = n.observed_at, number = n.number, "
    "text = n.text, unit_code = COALESCE(n.unit_code, a.unit_code) "
    "FROM (SELECT attribute_id, max(observed_at) AS observed_at, number, text, unit_code "
    "FROM temp.stage GROUP BY attribute_id) AS n "
    "WHERE a.id = n.attribute_id AND (a.observed_at IS NULL OR a.observed_at < n.observed_at)",
    "INSERT INTO rollup_marks (hour) "
    "SELECT DISTINCT substr(observed_at, 1, 13) || ':00:00.000000' FROM temp.stage",
)
_SQLITE_STORED = "SELECT attribute_id, count(*), max(observed_at) FROM temp.stage GROUP BY 1"
# PostgreSQL, when some rows may be stored already: the new ones move, their hours are marked.
_MOVE_NEW = """
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
_UPDATE_LATEST = """
UPDATE entity_attributes a
SET observed_at = n.observed_at, number = n.number, text = n.text,
    unit_code = COALESCE(n.unit_code, a.unit_code)
FROM (SELECT DISTINCT ON (attribute_id) * FROM stage ORDER BY attribute_id, observed_at DESC) n
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
    series = _series_ids(session, readings)
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        ensure_months(session, {month_of(at) for at in {r.observed_at for r in readings}})
    stamp = _as_is if postgres else sqlite_time
    rows: dict[tuple[int, datetime], Row] = {}
    for entity_id, attribute, observed_at, value, unit_code in readings:
        key = (series[entity_id, attribute], observed_at)
        if key not in rows:
            number = value if isinstance(value, float) else None
            word = value if isinstance(value, str) else None
            rows[key] = (key[0], stamp(observed_at), number, word, unit_code)
    moved = _copy_new(connection, rows) if postgres else _insert_new(connection, rows)
    names = {series_id: key for key, series_id in series.items()}
    stored = Stored()
    for series_id, count, newest in moved:
        entity_id, attribute = names[series_id]
        stored.changes.setdefault(entity_id, set()).add(attribute)
        stored.count += count
        if stored.newest is None or newest > stored.newest:
            stored.newest = newest
    return stored


def _as_is(moment: datetime) -> datetime:
    return moment


def _series_ids(session: Session, readings: Iterable[Reading]) -> dict[tuple[str, str], int]:
    """The attribute (series) id of every (entity, attribute), created when missing."""
    wanted = {(r.entity_id, r.attribute): r.unit_code for r in readings}
    entity_ids = {entity for entity, _ in wanted}
    query = select(EntityAttribute.entity_id, EntityAttribute.name, EntityAttribute.id)
    connection = session.connection()  # plain rows: no ORM bookkeeping on the hot path
    found = {
        (entity, name): series
        for entity, name, series in connection.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids))
        ).all()  # fetched at once: iterating fetches row by row
    }
    missing = [
        {"entity_id": entity, "name": name, "unit_code": unit}
        for (entity, name), unit in sorted(wanted.items())
        if (entity, name) not in found
    ]
    if missing:
        # Another writer (a second ingest worker) may create the same series meanwhile.
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(EntityAttribute).on_conflict_do_nothing(), missing)
        names = {m["name"] for m in missing}
        for entity, name, series in connection.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids), EntityAttribute.name.in_(names))
        ):
            found[entity, name] = series
    return found


def _insert_new(
    connection: Connection, rows: dict[tuple[int, datetime], Row]
) -> list[tuple[int, int, datetime]]:
    """Stage the rows, drop those already stored, move the rest (SQLite).

    SQLite has one writer at a time: what is not there now will not appear before our commit.
    Returns, per attribute with new rows: how many, and the newest time.
    """
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id INTEGER, observed_at TEXT, "
        "number REAL, text TEXT, unit_code TEXT)"
    )
    connection.exec_driver_sql(
        "INSERT INTO temp.stage VALUES (?, ?, ?, ?, ?)",
        list(rows.values()),
    )
    for statement in _SQLITE_STATEMENTS:
        connection.exec_driver_sql(statement)
    moved = [
        (series, count, _from_sqlite(newest))
        for series, count, newest in connection.exec_driver_sql(_SQLITE_STORED).all()
    ]
    connection.exec_driver_sql("DELETE FROM temp.stage")
    return moved


def _copy_new(
    connection: Connection, rows: dict[tuple[int, datetime], Row]
) -> list[tuple[int, int, datetime]]:
    """COPY the rows straight into `observations`; if some are stored already, through a
    stage instead, moving only the new ones (PostgreSQL).

    Rows go in key order, so that concurrent writers never wait on each other in a circle.
    Returns, per attribute with new rows: how many, and the newest time.
    """
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id bigint, observed_at timestamptz, "
        "number float8, text varchar(200), unit_code varchar(16)) ON COMMIT DELETE ROWS"
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    ordered = [rows[key] for key in sorted(rows)]
    cursor.execute("SAVEPOINT direct")
    try:
        with cursor.copy("COPY observations FROM STDIN") as copy:
            for row in ordered:
                copy.write_row(row[:4])
    except UniqueViolation:  # a redelivery: the slower way, which skips what is stored
        cursor.execute("ROLLBACK TO SAVEPOINT direct")
        _copy(cursor, ordered)
        found = connection.exec_driver_sql(_MOVE_NEW).all()
        moved = [(series, count, newest) for series, count, newest in found]
    else:
        cursor.execute("RELEASE SAVEPOINT direct")
        moved = _all_new(ordered)
        latest = {row[0]: row for row in ordered}  # key order: the newest of each comes last
        _copy(cursor, latest.values())
        hours = {_hour(at) for at in {row[1] for row in ordered}}
        connection.execute(insert(RollupMark), [{"hour": hour} for hour in sorted(hours)])
    connection.exec_driver_sql(_UPDATE_LATEST)  # the stage empties itself at commit
    return moved


def _copy(cursor: Any, rows: Iterable[Row]) -> None:
    with cursor.copy("COPY stage FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _all_new(ordered: list[Row]) -> list[tuple[int, int, datetime]]:
    """Per attribute: how many rows, and the newest time (rows in key order, all new)."""
    counts = Counter(row[0] for row in ordered)
    newest = {row[0]: row[1] for row in ordered}
    return [(series, counts[series], at) for series, at in newest.items()]  # type: ignore[misc]


@lru_cache(maxsize=65_536)
def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
