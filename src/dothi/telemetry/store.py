"""Writing readings: observations stored once, latest values kept up, changed hours marked.

This is the hot path of the platform. A reading newer than its attribute's latest
value cannot be stored yet: it goes straight into `observations` (streamed by COPY
on PostgreSQL while the caller prepares the next ones, one executemany on SQLite).
Older ones (a redelivery, a backfill) go through a stage table, and only those
missing move. Idempotent on (attribute, observedAt): a redelivered message changes
nothing. Each batch moves the latest values forward and marks the hours that
received data; the hourly rollups are folded later from the marks (`rollups.py`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
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
_PG_SERIES = (
    "SELECT entity_id, name, id, observed_at FROM entity_attributes WHERE entity_id = ANY(%s)"
)
_SQLITE_SERIES = (
    "SELECT entity_id, name, id, observed_at FROM entity_attributes "
    "WHERE entity_id IN (SELECT value FROM json_each(?))"
)
Series = dict[tuple[str, str], tuple[int, datetime | str | None]]
"""(entity, attribute) → the attribute's id and latest time (text on SQLite)."""
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
    cursor, postgres = driver_cursor(session)
    series = _series(session, cursor, readings, postgres)
    months = None
    if postgres:
        months = {month_of(at) for at in {r.observed_at for r in readings}}
        ensure_months(session, months)
    with fresh_rows(cursor, postgres, series, months) as fresh:
        late = fresh.add(readings)
    ordered = _distinct(
        _row(series[entity_id, attribute][0], fresh.stamp(observed_at), value, unit_code)
        for entity_id, attribute, observed_at, value, unit_code in late
    )
    moved = (_move_late_postgres if postgres else _move_late_sqlite)(cursor, ordered)
    return merged(fresh.stored, stored_of(moved, series)) if ordered else fresh.stored


def driver_cursor(session: Session) -> tuple[Any, bool]:
    """A cursor of the session's own connection (plain tuples, no result objects on the hot
    path), and whether it is PostgreSQL."""
    connection = session.connection()
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    return cursor, connection.dialect.name == "postgresql"


def series_of(cursor: Any, entity_ids: Iterable[str], postgres: bool) -> Series:
    """The observed attributes of these entities: their ids and latest times."""
    if postgres:
        rows = cursor.execute(_PG_SERIES, (sorted(entity_ids),))
    else:
        rows = cursor.execute(_SQLITE_SERIES, (json.dumps(sorted(entity_ids)),))
    return {(entity, name): (series, latest) for entity, name, series, latest in rows.fetchall()}


def _series(session: Session, cursor: Any, readings: Iterable[Reading], postgres: bool) -> Series:
    """`series_of` the readings' entities, with the attributes they lack created."""
    wanted = {(r.entity_id, r.attribute): r.unit_code for r in readings}
    found = series_of(cursor, {entity for entity, _ in wanted}, postgres)
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


def stored_of(moved: Moved, series: Series) -> Stored:
    """What moved rows added, by entity and attribute."""
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


def merged(first: Stored, second: Stored) -> Stored:
    """Both parts of a batch's readings together."""
    for entity_id, names in second.changes.items():
        first.changes.setdefault(entity_id, set()).update(names)
    first.count += second.count
    if second.newest is not None and (first.newest is None or second.newest > first.newest):
        first.newest = second.newest
    return first


def _row(series_id: int, at: datetime | str, value: float | str | None, unit: str | None) -> Row:
    number = value if isinstance(value, float) else None
    return (series_id, at, number, value if isinstance(value, str) else None, unit)


def _as_is(moment: datetime) -> datetime:
    return moment


class FreshRows:
    """The readings of a batch newer than their attribute's latest value, as they come.

    `add` takes those and hands back the others: of an attribute not in `series`, no
    newer than its latest value, or (PostgreSQL) of a month not in `months`, whose
    partition may not exist yet. On PostgreSQL each row is written to an open COPY at
    once, so the server inserts while Python reads the next messages.
    """

    def __init__(self, series: Series, postgres: bool, months: set[date] | None) -> None:
        self.rows: list[Row] = []
        self.newest: dict[int, Row] = {}
        self.stored = Stored()
        self.stamp: Callable[[datetime], datetime | str] = _as_is if postgres else sqlite_time
        self.write: Callable[[str], None] | None = None  # the open COPY's
        self._series = series
        self._months = months
        self._lines: list[str] = []

    def add(self, readings: Iterable[Reading]) -> list[Reading]:
        """Take the fresh readings; the others, back. (The hot loop of ingest: the readings of
        a message share their time, so its text and month are worked out once.)"""
        others: list[Reading] = []
        rows, newest, months, known = self.rows, self.newest, self._months, self._series
        lines = self._lines if self.write is not None else None
        time: datetime | None = None
        at: datetime | str = ""
        in_partition = True
        text_at = ""
        for reading in readings:
            entity_id, attribute, observed_at, value, unit = reading
            if observed_at is not time:
                time, at = observed_at, self.stamp(observed_at)
                in_partition = months is None or month_of(observed_at) in months
                text_at = f"\t{_copy_time(at)}\t" if lines is not None else ""
            series = known.get((entity_id, attribute))
            if series is None or not in_partition:
                others.append(reading)
                continue
            series_id, latest = series
            if latest is not None and at <= latest:  # type: ignore[operator]
                others.append(reading)
                continue
            if type(value) is float:
                row: Row = (series_id, at, value, None, unit)
                if lines is not None:
                    lines.append(f"{series_id}{text_at}{value!r}\t\\N\n")
            elif isinstance(value, str):
                row = (series_id, at, None, value, unit)
                if lines is not None:
                    lines.append(_copy_line(row[:4]))
            else:  # no value: nothing to store
                continue
            rows.append(row)
            held = newest.get(series_id)
            if held is None or at > held[1]:  # type: ignore[operator]
                newest[series_id] = row
        if lines is not None and len(lines) >= 1000:
            self.flush()
        return others

    def flush(self) -> None:
        """Send the rows written so far."""
        if self._lines and self.write is not None:
            self.write("".join(self._lines))
            self._lines.clear()

    def all_new(self) -> Moved:
        """Per attribute: how many rows, and the newest time (every row was new)."""
        counts = Counter(map(_series_id, self.rows))
        return [(series_id, counts[series_id], row[1]) for series_id, row in self.newest.items()]


@contextmanager
def fresh_rows(
    cursor: Any, postgres: bool, series: Series, months: set[date] | None
) -> Iterator[FreshRows]:
    """Fresh readings added in the block are stored when it ends, with their latest values
    and hours; `stored` then says what they added.

    Should one of them be stored already (the same reading twice in the batch, or a
    redelivery two PostgreSQL workers both took), they all go through the stage instead,
    and only those missing move.
    """
    fresh = FreshRows(series, postgres, months)
    cursor.execute("SAVEPOINT direct")
    if postgres:
        try:
            with cursor.copy("COPY observations FROM STDIN") as copy:
                fresh.write = copy.write
                yield fresh
                fresh.flush()
            clash = False
        except UniqueViolation:
            clash = True
    else:
        yield fresh
        fresh.rows.sort(key=_key)  # in key order: neighbours in the table's B-tree
        cursor.executemany(
            "INSERT OR IGNORE INTO observations (attribute_id, observed_at, number, text) "
            "VALUES (?, ?, ?, ?)",
            [row[:4] for row in fresh.rows],
        )
        clash = cursor.rowcount != len(fresh.rows)
    if clash:
        cursor.execute("ROLLBACK TO SAVEPOINT direct")
        move = _move_late_postgres if postgres else _move_late_sqlite
        moved = move(cursor, _distinct(fresh.rows))
    else:
        cursor.execute("RELEASE SAVEPOINT direct")
        moved = fresh.all_new()
        _mark_hours(cursor, postgres, set(map(_time, fresh.rows)))
    if fresh.newest:
        _move_latest(cursor, postgres, fresh.newest.values())
    fresh.stored = stored_of(moved, series)


_key = itemgetter(0, 1)  # a row's (attribute, time)
_series_id = itemgetter(0)
_time = itemgetter(1)


def _distinct(rows: Iterable[Row]) -> list[Row]:
    """Each (attribute, time) once, in key order."""
    unique = {_key(row): row for row in rows}
    return [unique[key] for key in sorted(unique)]


def _mark_hours(cursor: Any, postgres: bool, times: set[datetime | str]) -> None:
    """Mark the hours of these times for the rollups."""
    if postgres:
        hours = sorted({_hour(at) for at in times})
        cursor.executemany("INSERT INTO rollup_marks (hour) VALUES (%s)", [(h,) for h in hours])
    else:
        texts = sorted({f"{at[:13]}:00:00.000000" for at in times})  # type: ignore[index]
        cursor.executemany("INSERT INTO rollup_marks (hour) VALUES (?)", [(h,) for h in texts])


def _move_latest(cursor: Any, postgres: bool, newest: Iterable[Row]) -> None:
    """Move each attribute's latest value to its newest row (PostgreSQL: only forward, another
    writer may have moved one further meanwhile; SQLite has one writer)."""
    if postgres:
        _stage(cursor, newest)
        cursor.execute(_PG_LATEST)
        cursor.execute("DELETE FROM stage")
    else:
        cursor.executemany(
            _SQLITE_LATEST,
            [(at, number, text, unit, id_) for id_, at, number, text, unit in newest],
        )


def _move_late_sqlite(cursor: Any, rows: list[Row]) -> Moved:
    """Stage the rows and move those not stored yet (SQLite)."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id INTEGER, observed_at TEXT, "
        "number REAL, text TEXT, unit_code TEXT)"
    )
    cursor.executemany("INSERT INTO temp.stage VALUES (?, ?, ?, ?, ?)", rows)
    for statement in _SQLITE_LATE:
        cursor.execute(statement)
    moved: Moved = cursor.execute(_SQLITE_STORED).fetchall()
    cursor.execute("DELETE FROM temp.stage")
    return moved


def _move_late_postgres(cursor: Any, rows: list[Row]) -> Moved:
    """Stage the rows (in key order: concurrent writers then never wait on each other in a
    circle) and move those not stored yet (PostgreSQL)."""
    _stage(cursor, rows)
    moved: Moved = cursor.execute(_PG_LATE).fetchall()
    cursor.execute("DELETE FROM stage")
    return moved


def _stage(cursor: Any, rows: Iterable[Row]) -> None:
    """COPY rows into this session's stage table (PostgreSQL)."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage (attribute_id bigint, "
        "observed_at timestamptz, number float8, text varchar(200), unit_code varchar(16))"
    )
    with cursor.copy("COPY stage FROM STDIN") as copy:
        copy.write("".join([_copy_line(row) for row in rows]))


def _copy_line(values: Sequence[Any]) -> str:
    """Values (numbers, times, texts, None) as a line of COPY's text format."""
    return "\t".join([_copy_field(value) for value in values]) + "\n"


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return _copy_time(value)
    return repr(value)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@lru_cache(maxsize=65_536)
def _copy_time(moment: datetime) -> str:
    return moment.isoformat()


@lru_cache(maxsize=65_536)
def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
