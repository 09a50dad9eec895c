"""Time series for dashboards: one attribute of one entity, bucketed and aggregated.

Buckets are aligned on local midnight (a day is a Vietnamese day). Buckets of
whole hours over a window ending on the hour are answered from the hourly
rollups (`rollups.py`), so a month of minute data costs 720 rows, not 43,200;
other buckets read the raw observations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.errors import InvalidInput, NotFound
from dothi.telemetry.models import Entity, EntityAttribute, Observation
from dothi.telemetry.placing import entity_path
from dothi.telemetry.rollups import hourly

Aggregate = Literal["avg", "min", "max", "last"]
HOUR = timedelta(hours=1)
MAX_BUCKETS = 5000
MAX_RAW_ROWS = 500_000
_EVERY = re.compile(r"^(?P<n>[1-9]\d{0,3})(?P<unit>[smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket: its start and its aggregate value."""

    t: datetime
    v: float


@dataclass(frozen=True, slots=True)
class Series:
    """An aggregated series and where it was read from (`rollups` or `observations`)."""

    entity_id: str
    attribute: str
    unit_code: str | None
    every: timedelta
    aggregate: Aggregate
    source: str
    points: list[Point]


def parse_every(text: str) -> timedelta:
    """`30s`, `15m`, `1h`, `1d` as a duration."""
    match = _EVERY.match(text)
    if match is None:
        raise InvalidInput("every: give a number and a unit s, m, h or d (e.g. 15m, 1h, 1d).")
    return timedelta(**{_UNITS[match["unit"]]: int(match["n"])})


def read_series(
    session: Session,
    reader: Principal | None,
    entity_id: str,
    attribute: str,
    window: tuple[datetime, datetime],
    every: timedelta,
    aggregate: Aggregate,
    zone: str,
) -> Series:
    """The series of `attribute` over `window` in buckets of `every` (reader None: public data)."""
    start, end = window
    if end <= start:
        raise InvalidInput("from must be before to.")
    if (end - start) / every > MAX_BUCKETS:
        raise InvalidInput(f"That is more than {MAX_BUCKETS} buckets: widen `every`.")
    series = _attribute(session, reader, entity_id, attribute)
    origin = datetime(2000, 1, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    start = _bucket_of(start, every, origin)  # whole buckets only
    on_hours = (origin.minute, origin.second) == (0, 0) and _bucket_of(end, HOUR, origin) == end
    if every % HOUR == timedelta(0) and on_hours:  # else the last hour would count too much
        source, points = "rollups", _from_rollups(session, series.id, start, end, every, origin)
    else:
        source, points = "observations", _from_raw(session, series.id, start, end, every, origin)
    values = [Point(t, _aggregate(aggregate, parts)) for t, parts in sorted(points.items())]
    return Series(entity_id, attribute, series.unit_code, every, aggregate, source, values)


def _attribute(
    session: Session, reader: Principal | None, entity_id: str, attribute: str
) -> EntityAttribute:
    entity = session.get(Entity, entity_id)
    if entity is not None and reader is not None:
        reader.require_sight(entity_path(session, entity))
    series = session.scalar(
        select(EntityAttribute).where(
            EntityAttribute.entity_id == entity_id, EntityAttribute.name == attribute
        )
    )
    if entity is None or series is None:
        raise NotFound(f"No attribute {attribute!r} of entity {entity_id!r}.")
    return series


@dataclass(slots=True)
class _Bucket:
    count: int
    total: float
    minimum: float
    maximum: float
    last: float
    last_at: datetime

    def merge(self, other: _Bucket) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        if other.last_at >= self.last_at:
            self.last, self.last_at = other.last, other.last_at


def _bucket_of(moment: datetime, every: timedelta, origin: datetime) -> datetime:
    return origin + ((moment - origin) // every) * every


def _fold(
    rows: Iterable[tuple[datetime, _Bucket]], every: timedelta, origin: datetime
) -> dict[datetime, _Bucket]:
    buckets: dict[datetime, _Bucket] = {}
    for at, bucket in rows:
        key = _bucket_of(at, every, origin)
        held = buckets.get(key)
        if held is None:
            buckets[key] = bucket
        else:
            held.merge(bucket)
    return buckets


def _from_rollups(
    session: Session,
    series_id: int,
    start: datetime,
    end: datetime,
    every: timedelta,
    origin: datetime,
) -> dict[datetime, _Bucket]:
    return _fold(
        (
            (h.hour, _Bucket(h.count, h.total, h.minimum, h.maximum, h.last, h.last_at))
            for h in hourly(session, series_id, start, end)
        ),
        every,
        origin,
    )


def _from_raw(
    session: Session,
    series_id: int,
    start: datetime,
    end: datetime,
    every: timedelta,
    origin: datetime,
) -> dict[datetime, _Bucket]:
    o = Observation
    rows = session.execute(
        select(o.observed_at, o.number)
        .where(
            o.attribute_id == series_id,
            o.observed_at >= start,
            o.observed_at < end,
            o.number.is_not(None),
        )
        .order_by(o.observed_at)
        .limit(MAX_RAW_ROWS)
    )
    return _fold(
        ((at, _Bucket(1, v, v, v, v, at)) for at, v in rows if v is not None), every, origin
    )


def _aggregate(aggregate: Aggregate, bucket: _Bucket) -> float:
    if aggregate == "avg":
        return bucket.total / bucket.count
    if aggregate == "min":
        return bucket.minimum
    if aggregate == "max":
        return bucket.maximum
    return bucket.last
