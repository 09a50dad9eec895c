"""Writing readings: observations stored once, hourly rollups and latest values kept up.

This is the hot path of the platform, so rows go to the driver as plain tuples
(`executemany`, COPY on PostgreSQL) rather than through the ORM's per-row
processing, which cost more than SQLite's own insert. Idempotent on
(attribute, observedAt): a redelivered message changes nothing. Rollups and
latest values are computed in Python from exactly the rows that were new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dothi.telemetry.messages import Reading
from dothi.telemetry.models import EntityAttribute, Observation
from dothi.telemetry.partitions import ensure_months, month_of

Row = tuple[int, datetime, float | None, str | None]
STAGE = "observation_stage"

_ROLLUP_UPSERT = """
INSERT INTO observation_rollups (attribute_id, hour, count, total, minimum, maximum, last, last_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (attribute_id, hour) DO UPDATE SET
  count = observation_rollups.count + excluded.count,
  total = observation_rollups.total + excluded.total,
  minimum = min(observation_rollups.minimum, excluded.minimum),
  maximum = max(observation_rollups.maximum, excluded.maximum),
  last = CASE WHEN excluded.last_at >= observation_rollups.last_at
         THEN excluded.last ELSE observation_rollups.last END,
  last_at = max(observation_rollups.last_at, excluded.last_at)
"""
_LATEST_UPDATE = """
UPDATE entity_attributes
SET observed_at = ?, number = ?, text = ?, unit_code = COALESCE(?, unit_code)
WHERE id = ? AND (observed_at IS NULL OR observed_at <= ?)
"""
# PostgreSQL: one statement moves the staged rows that are new, folds them into
# their hours and moves the latest values forward: a few round trips per batch.
_MOVE_STAGED = f"""
WITH new AS (
  INSERT INTO observations
  SELECT attribute_id, observed_at, number, text FROM {STAGE} ORDER BY attribute_id, observed_at
  ON CONFLICT DO NOTHING
  RETURNING attribute_id, observed_at, number, text
), hours AS (
  INSERT INTO observation_rollups AS r
    (attribute_id, hour, count, total, minimum, maximum, last, last_at)
  SELECT attribute_id, date_trunc('hour', observed_at, 'UTC'), count(*), sum(number),
         min(number), max(number), (array_agg(number ORDER BY observed_at DESC))[1],
         max(observed_at)
  FROM new WHERE number IS NOT NULL
  GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (attribute_id, hour) DO UPDATE SET
    count = r.count + excluded.count,
    total = r.total + excluded.total,
    minimum = least(r.minimum, excluded.minimum),
    maximum = greatest(r.maximum, excluded.maximum),
    last = CASE WHEN excluded.last_at >= r.last_at THEN excluded.last ELSE r.last END,
    last_at = greatest(r.last_at, excluded.last_at)
), latest AS (
  UPDATE entity_attributes a
  SET observed_at = n.observed_at, number = n.number, text = n.text,
      unit_code = COALESCE(n.unit_code, a.unit_code)
  FROM (
    SELECT DISTINCT ON (new.attribute_id) new.*, s.unit_code
    FROM new JOIN {STAGE} s USING (attribute_id, observed_at)
    ORDER BY new.attribute_id, new.observed_at DESC
  ) n
  WHERE a.id = n.attribute_id AND (a.observed_at IS NULL OR a.observed_at <= n.observed_at)
)
SELECT attribute_id, count(*), max(observed_at) FROM new GROUP BY attribute_id
"""  # noqa: S608 (constant names only)


@dataclass(slots=True)
class Stored:
    """What a batch of readings added: how many, which attributes of which entities, up to when."""

    count: int = 0
    changes: dict[str, set[str]] = field(default_factory=dict)
    newest: datetime | None = None


@lru_cache(maxsize=65_536)  # the attributes of a message share one time: format it once
def _sqlite_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite, so that both read the same text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=65_536)
def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def store_readings(session: Session, readings: Sequence[Reading]) -> Stored:
    """Store readings of existing entities; duplicates of stored ones are ignored."""
    if not readings:
        return Stored()
    series = _series_ids(session, readings)
    units = {series[r.entity_id, r.attribute]: r.unit_code for r in readings}
    rows: dict[tuple[int, datetime], Row] = {}
    for reading in readings:
        key = (series[reading.entity_id, reading.attribute], reading.observed_at)
        number = reading.value if isinstance(reading.value, float) else None
        word = reading.value if isinstance(reading.value, str) else None
        rows.setdefault(key, (key[0], key[1], number, word))
    ensure_months(session, {month_of(at) for _, at in rows})
    # Rows, rollups and latest values are written in key order, so that concurrent
    # writers (ingest workers on PostgreSQL) lock them in the same order: no deadlocks.
    ordered = [rows[key] for key in sorted(rows)]
    if session.get_bind().dialect.name == "postgresql":
        per_series = _copy_new(session, ordered, units)
    else:
        new = _insert_new(session, ordered)
        _update_rollups(session, new)
        _update_latest(session, new, units)
        per_series = [(row[0], 1, row[1]) for row in new]
    names = {series_id: key for key, series_id in series.items()}
    stored = Stored(sum(count for _, count, _ in per_series))
    stored.newest = max((newest for _, _, newest in per_series), default=None)
    for series_id, _, _ in per_series:
        entity_id, attribute = names[series_id]
        stored.changes.setdefault(entity_id, set()).add(attribute)
    return stored


def _series_ids(session: Session, readings: Iterable[Reading]) -> dict[tuple[str, str], int]:
    """The attribute (series) id of every (entity, attribute), created when missing."""
    wanted = {(r.entity_id, r.attribute): r.unit_code for r in readings}
    entity_ids = {entity for entity, _ in wanted}
    query = select(EntityAttribute.entity_id, EntityAttribute.name, EntityAttribute.id)
    found = {
        (entity, name): series
        for entity, name, series in session.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids))
        )
    }
    missing = [
        {"entity_id": entity, "name": name, "unit_code": unit}
        for (entity, name), unit in sorted(wanted.items())
        if (entity, name) not in found
    ]
    if missing:
        # Another writer (a second ingest worker) may create the same series meanwhile.
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(EntityAttribute).on_conflict_do_nothing(), missing)
        names = {m["name"] for m in missing}
        for entity, name, series in session.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids), EntityAttribute.name.in_(names))
        ):
            found[entity, name] = series
    return found


def _insert_new(session: Session, rows: list[Row]) -> list[Row]:
    """Insert the rows not stored yet (SQLite); returns those.

    SQLite has one writer at a time: what is not there now will not appear before our commit.
    """
    times = [row[1] for row in rows]
    stored = select(Observation.attribute_id, Observation.observed_at).where(
        Observation.attribute_id.in_({row[0] for row in rows}),
        Observation.observed_at.between(min(times), max(times)),
    )
    existing = {(series_id, at) for series_id, at in session.execute(stored)}
    new = [row for row in rows if (row[0], row[1]) not in existing]
    if new:
        session.connection().exec_driver_sql(
            "INSERT INTO observations (attribute_id, observed_at, number, text) "
            "VALUES (?, ?, ?, ?)",
            [(s, _sqlite_time(at), n, w) for s, at, n, w in new],
        )
    return new


def _copy_new(
    session: Session, rows: list[Row], units: dict[int, str | None]
) -> list[tuple[int, int, datetime]]:
    """COPY into a temporary table, then move what is new (PostgreSQL).

    Returns, per attribute with new rows: how many, and the newest time.
    """
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (attribute_id bigint, observed_at timestamptz, "
        "number float8, text varchar(200), unit_code varchar(16)) ON COMMIT DELETE ROWS"
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, units.get(row[0])))
    moved = connection.exec_driver_sql(_MOVE_STAGED)  # the stage empties itself at commit
    return [(series, count, newest) for series, count, newest in moved]


@dataclass(slots=True)
class _Rollup:
    count: int
    total: float
    minimum: float
    maximum: float
    last: float
    last_at: datetime

    def add(self, value: float, at: datetime) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if at >= self.last_at:
            self.last, self.last_at = value, at


def _update_rollups(session: Session, new: list[Row]) -> None:
    """Fold the numeric values just stored into their hours' aggregates (SQLite)."""
    hours: dict[tuple[int, datetime], _Rollup] = {}
    for series, at, number, _ in new:
        if number is None:
            continue
        key = (series, _hour(at))
        rollup = hours.get(key)
        if rollup is None:
            hours[key] = _Rollup(1, number, number, number, number, at)
        else:
            rollup.add(number, at)
    if hours:
        time = _sqlite_time
        session.connection().exec_driver_sql(
            _ROLLUP_UPSERT,
            [
                (s, time(h), r.count, r.total, r.minimum, r.maximum, r.last, time(r.last_at))
                for (s, h), r in sorted(hours.items())
            ],
        )


def _update_latest(session: Session, new: list[Row], units: dict[int, str | None]) -> None:
    """Move each attribute's latest value forward to the newest reading just stored (SQLite)."""
    newest: dict[int, Row] = {}
    for row in new:
        held = newest.get(row[0])
        if held is None or row[1] > held[1]:
            newest[row[0]] = row
    if newest:
        time = _sqlite_time
        session.connection().exec_driver_sql(
            _LATEST_UPDATE,
            [
                (time(at), n, w, units.get(s), s, time(at))
                for s, at, n, w in sorted(newest.values(), key=lambda row: row[0])
            ],
        )
