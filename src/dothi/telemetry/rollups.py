"""Hourly rollups: folded after the fact from the hours ingest marked, and read exactly.

Ingest only marks the hours its new observations fall in (`store.py`), which keeps
the rollups off the hot path. `fold_marked` recomputes the marked hours from the
observations, replaces their rollups and removes the marks it read; the web app
runs it every minute. `hourly` reads an attribute's rollups and aggregates its
hours that are still marked from the observations themselves, so that answers are
exact whether or not the folding has caught up.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, literal, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dothi.core.clock import as_utc
from dothi.db.base import UTCDateTime
from dothi.db.engine import Database
from dothi.telemetry.models import EntityAttribute, HourlyRollup, Observation, RollupMark

HOUR = timedelta(hours=1)
FOLD_LOCK = 0x726F_6C6C  # "roll": one process folds at a time on PostgreSQL
MARKS_PER_FOLD = 500


@dataclass(frozen=True, slots=True)
class Hour:
    """The aggregates of an attribute's numeric observations in one UTC hour."""

    hour: datetime
    count: int
    total: float
    minimum: float
    maximum: float
    last: float
    last_at: datetime


def fold_marked(session: Session, limit: int = MARKS_PER_FOLD) -> int:
    """Fold up to `limit` marks into the rollups of their hours; how many marks it took.

    A mark written while an hour is being folded has another id and stays for the next
    fold. The caller commits.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FOLD_LOCK}
    ):
        return 0  # another process is folding
    marks = session.execute(
        select(RollupMark.id, RollupMark.hour).order_by(RollupMark.id).limit(limit)
    ).all()
    for hour in sorted({as_utc(hour) for _, hour in marks}):
        session.execute(_fold_hour(hour, postgres))
    session.execute(delete(RollupMark).where(RollupMark.id.in_([mark for mark, _ in marks])))
    return len(marks)


def fold_all(database: Database) -> int:
    """Fold every mark, a transaction per `MARKS_PER_FOLD`; how many were folded."""
    total = 0
    while True:
        with database.write() as session:
            folded = fold_marked(session)
        total += folded
        if folded < MARKS_PER_FOLD:
            return total


def _fold_hour(hour: datetime, postgres: bool) -> Any:
    """INSERT … SELECT the aggregates of one hour over every attribute, replacing held ones."""
    columns = ("attribute_id", "hour", "count", "total", "minimum", "maximum", "last", "last_at")
    insert = (postgresql.insert if postgres else sqlite.insert)(HourlyRollup)
    statement = insert.from_select(list(columns), _aggregates(hour))
    return statement.on_conflict_do_update(
        index_elements=["attribute_id", "hour"],
        set_={name: statement.excluded[name] for name in columns[2:]},
    )


def _aggregates(hour: datetime, series_ids: Collection[int] | None = None) -> Select[Any]:
    """Per attribute (or those given) with numbers in `hour`: its id, the hour and the
    rollup's columns."""
    o = Observation
    # Attribute by attribute, an index range in each: never a scan of the observations.
    one = [o.attribute_id.in_(select(EntityAttribute.id) if series_ids is None else series_ids)]
    grouped = (
        select(
            o.attribute_id,
            func.count().label("count"),
            func.sum(o.number).label("total"),
            func.min(o.number).label("minimum"),
            func.max(o.number).label("maximum"),
            func.max(o.observed_at).label("last_at"),
        )
        .where(*one, *within(o.observed_at, hour, hour + HOUR), o.number.is_not(None))
        .group_by(o.attribute_id)
        .subquery()
    )
    last = (
        select(o.number)
        .where(o.attribute_id == grouped.c.attribute_id, o.observed_at == grouped.c.last_at)
        .scalar_subquery()
    )
    g = grouped.c
    return select(
        g.attribute_id,
        literal(hour, UTCDateTime()),
        g.count,
        g.total,
        g.minimum,
        g.maximum,
        last,
        g.last_at,
    ).where(true())  # SQLite reads ON CONFLICT after a WHERE as the upsert, not a join


def hourly(
    session: Session, series_id: int, start: datetime | None, end: datetime | None
) -> list[Hour]:
    """The hours of an attribute in [start, end) that hold numbers, oldest first."""
    return hourly_many(session, [series_id], start, end).get(series_id, [])


def hourly_many(
    session: Session, series_ids: Collection[int], start: datetime | None, end: datetime | None
) -> dict[int, list[Hour]]:
    """`hourly` for many attributes at once: a query for the rollups, one for the marks, one
    per marked hour."""
    r = HourlyRollup
    held = session.execute(
        select(
            r.attribute_id, r.hour, r.count, r.total, r.minimum, r.maximum, r.last, r.last_at
        ).where(r.attribute_id.in_(series_ids), *within(r.hour, start, end))
    )
    hours: dict[int, dict[datetime, Hour]] = {}
    for series_id, hour, count, total, minimum, maximum, last, last_at in held:
        at = as_utc(hour)
        hours.setdefault(series_id, {})[at] = Hour(
            at, count, total, minimum, maximum, last, last_at
        )
    marked = session.scalars(
        select(RollupMark.hour).distinct().where(*within(RollupMark.hour, start, end))
    )
    for hour in map(as_utc, marked):
        for found in hours.values():
            found.pop(hour, None)
        for series_id, _, count, total, minimum, maximum, last, last_at in session.execute(
            _aggregates(hour, series_ids)
        ):
            hours.setdefault(series_id, {})[hour] = Hour(
                hour, count, total, minimum, maximum, last, as_utc(last_at)
            )
    return {series_id: [found[h] for h in sorted(found)] for series_id, found in hours.items()}


def within(column: Any, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    """Conditions keeping `column` in [start, end), each bound optional."""
    bounds: list[ColumnElement[bool]] = []
    if start is not None:
        bounds.append(column >= start)
    if end is not None:
        bounds.append(column < end)
    return bounds
