"""The temporal evolution of entities (NGSI-LD temporal representation) and its aggregates.

Values come from the observations; aggregates over periods of whole hours that
start on an hour come from the hourly rollups, anything finer from the
observations. Only observed attributes have a history: static properties are
not part of the temporal representation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.core.clock import as_utc
from dothi.errors import InvalidInput
from dothi.telemetry.models import EntityAttribute, Observation
from dothi.telemetry.representation import Found, iso
from dothi.telemetry.rollups import hourly, within

MAX_INSTANCES = 10_000
"""Most values of one attribute in one answer (the newest, when there are more)."""
METHODS = ("avg", "min", "max", "sum", "totalCount")
HOUR = timedelta(hours=1)
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)

TimeRel = Literal["before", "after", "between"]


@dataclass(frozen=True, slots=True)
class TimeQuery:
    """Which values: a time relation, the attributes, how many of the newest."""

    timerel: TimeRel | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None
    attrs: frozenset[str] | None = None
    last_n: int | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The start (inclusive) and end (exclusive) of the time range."""
        if self.timerel is None:
            return None, None
        if self.time_at is None:
            raise InvalidInput("timerel needs timeAt.")
        if self.timerel == "before":
            return None, self.time_at
        if self.timerel == "after":
            return self.time_at, None
        if self.end_time_at is None:
            raise InvalidInput("timerel=between needs endTimeAt.")
        if self.end_time_at <= self.time_at:
            raise InvalidInput("endTimeAt must be after timeAt.")
        return self.time_at, self.end_time_at


@dataclass(frozen=True, slots=True)
class Aggregation:
    """Which aggregates (`METHODS`) per period (None: the whole range in one period)."""

    methods: tuple[str, ...]
    period: timedelta | None = None


def parse_methods(text: str) -> tuple[str, ...]:
    methods = tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        raise InvalidInput(f"aggrMethods must be among {', '.join(METHODS)}.")
    return methods


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration without years and months (PT1H, P1D, P1W); None for zero."""
    found = _DURATION.match(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise InvalidInput(
            f"aggrPeriodDuration {text[:40]!r} is not an ISO 8601 duration of weeks, days, "
            "hours, minutes or seconds (e.g. PT1H, P1D)."
        )
    parts = {k: float(v) for k, v in found.groupdict().items() if v}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        raise InvalidInput("aggrPeriodDuration is too long.") from None
    if timedelta(0) < duration < timedelta(seconds=1):
        raise InvalidInput("aggrPeriodDuration must be at least one second.")
    return duration or None


def _values(
    session: Session, attribute: EntityAttribute, query: TimeQuery
) -> list[tuple[datetime, float | str | None]]:
    """The newest values of an attribute in the range, oldest first."""
    start, end = query.bounds()
    statement = select(Observation.observed_at, Observation.number, Observation.text).where(
        Observation.attribute_id == attribute.id,
        *within(Observation.observed_at, start, end),
    )
    limit = min(query.last_n or MAX_INSTANCES, MAX_INSTANCES)
    rows = session.execute(statement.order_by(Observation.observed_at.desc()).limit(limit))
    values = [(as_utc(at), number if number is not None else text) for at, number, text in rows]
    values.reverse()
    return values


def _selected(found: Found, query: TimeQuery) -> Iterator[EntityAttribute]:
    for attribute in found.attributes:
        if query.attrs is None or attribute.name in query.attrs:
            yield attribute


def temporal(
    session: Session, found: Found, query: TimeQuery, *, simplified: bool
) -> dict[str, Any]:
    """An entity's temporal representation: normalized, or simplified (`values` pairs)."""
    document: dict[str, Any] = {"id": found.entity.id, "type": found.entity.type}
    for attribute in _selected(found, query):
        values = _values(session, attribute, query)
        if simplified:
            pairs = [[value, iso(at)] for at, value in values]
            document[attribute.name] = {"type": "Property", "values": pairs}
            continue
        instances = []
        for at, value in values:
            instance: dict[str, Any] = {"type": "Property", "value": value, "observedAt": iso(at)}
            if attribute.unit_code:
                instance["unitCode"] = attribute.unit_code
            instances.append(instance)
        document[attribute.name] = instances
    return document


# Aggregates ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Bucket:
    count: int = 0
    numbers: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    def add(self, count: int, total: float, low: float, high: float, numbers: int) -> None:
        self.count += count
        self.numbers += numbers
        self.total += total
        self.minimum = low if self.minimum is None else min(self.minimum, low)
        self.maximum = high if self.maximum is None else max(self.maximum, high)

    def result(self, method: str) -> float | int | None:
        if method == "totalCount":
            return self.count
        if not self.numbers:
            return None
        return {
            "sum": self.total,
            "avg": self.total / self.numbers,
            "min": self.minimum,
            "max": self.maximum,
        }[method]


@dataclass(slots=True)
class _Periods:
    origin: datetime
    period: timedelta | None
    end: datetime | None
    buckets: dict[int, _Bucket] = field(default_factory=dict)

    def bucket(self, at: datetime) -> _Bucket:
        index = 0 if self.period is None else int((at - self.origin) // self.period)
        return self.buckets.setdefault(index, _Bucket())

    def span(self, index: int, last: datetime) -> tuple[datetime, datetime]:
        if self.period is None:
            return self.origin, self.end or last
        start = self.origin + index * self.period
        return start, start + self.period


def aggregated(
    session: Session, found: Found, query: TimeQuery, aggregation: Aggregation
) -> dict[str, Any]:
    """An entity's aggregated temporal representation: per method, [value, start, end] lists."""
    document: dict[str, Any] = {"id": found.entity.id, "type": found.entity.type}
    start, end = query.bounds()
    for attribute in _selected(found, query):
        first = _edge(session, attribute, start, end, newest=False)
        if first is None:
            document[attribute.name] = {"type": "Property", **{m: [] for m in aggregation.methods}}
            continue
        origin = start or first.replace(minute=0, second=0, microsecond=0)
        periods = _Periods(origin, aggregation.period, end)
        if _hourly(periods, attribute):
            _fold_rollups(session, attribute, periods, end)
        else:
            _fold_values(session, attribute, periods, end)
        last = _edge(session, attribute, start, end, newest=True) or first
        document[attribute.name] = _render(periods, aggregation.methods, last)
    return document


def _hourly(periods: _Periods, attribute: EntityAttribute) -> bool:
    """Whether the rollups answer exactly: numbers, whole hours, starting and ending on hours."""

    def on_hour(moment: datetime | None) -> bool:
        return moment is None or moment == moment.replace(minute=0, second=0, microsecond=0)

    whole = periods.period is None or periods.period % HOUR == timedelta(0)
    return attribute.text is None and whole and on_hour(periods.origin) and on_hour(periods.end)


def _fold_rollups(
    session: Session, attribute: EntityAttribute, periods: _Periods, end: datetime | None
) -> None:
    for hour in hourly(session, attribute.id, periods.origin, end):
        periods.bucket(hour.hour).add(
            hour.count, hour.total, hour.minimum, hour.maximum, hour.count
        )


def _fold_values(
    session: Session, attribute: EntityAttribute, periods: _Periods, end: datetime | None
) -> None:
    statement = select(Observation.observed_at, Observation.number).where(
        Observation.attribute_id == attribute.id,
        *within(Observation.observed_at, periods.origin, end),
    )
    for at, number in session.execute(statement.execution_options(yield_per=5000)):
        if number is None:
            periods.bucket(as_utc(at)).count += 1
        else:
            periods.bucket(as_utc(at)).add(1, number, number, number, 1)


def _edge(
    session: Session,
    attribute: EntityAttribute,
    start: datetime | None,
    end: datetime | None,
    *,
    newest: bool,
) -> datetime | None:
    column = Observation.observed_at
    statement = select(column).where(
        Observation.attribute_id == attribute.id, *within(column, start, end)
    )
    moment = session.scalar(statement.order_by(column.desc() if newest else column).limit(1))
    return None if moment is None else as_utc(moment).astimezone(UTC)


def _render(periods: _Periods, methods: tuple[str, ...], last: datetime) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "Property"}
    for method in methods:
        series = []
        for index in sorted(periods.buckets):
            value = periods.buckets[index].result(method)
            if value is not None:
                start, end = periods.span(index, last)
                series.append([value, iso(start), iso(end)])
        result[method] = series
    return result
