"""Statistics of reports for a period: on-time rate, backlog by age, median times to accept
and to resolve, satisfaction; per ward, organisational unit or category.

Periods run from a cut-off day of one month to the same day of the next, in local time
(HCMC's 1022 counts from the 25th; day 1 gives calendar months). One SQL query, the same
on SQLite and PostgreSQL, fetches a row per report of the actor's area; medians, which
neither backend computes portably, are taken in Python.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import as_utc
from dothi.errors import InvalidInput
from dothi.places.service import get_unit
from dothi.reports.models import Category, Rating, Report, State, StateKind
from dothi.reports.routing import org_unit_names
from dothi.reports.service import officer_sight

Dimension = Literal["ward", "unit", "category"]
AGE_BANDS = (3, 7)
"""Backlog ages in days: 0-3, 3-7 and more than 7."""
NOBODY = "—"


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in local dates."""

    start: date
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC instants."""
        start, end = (as_utc(datetime.combine(d, time(), zone)) for d in (self.start, self.end))
        return start, end


def _month_day(year: int, month: int, day: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, day)


def period_of(day: date, cutoff: int) -> Period:
    """The period containing `day` when periods start on day `cutoff` of each month."""
    if not 1 <= cutoff <= 28:
        raise InvalidInput("The cut-off day must be 1 to 28.")
    month = day.month if day.day >= cutoff else day.month - 1
    start = _month_day(day.year, month, cutoff)
    return Period(start, _month_day(start.year, start.month + 1, cutoff))


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one group (or of all reports)."""

    key: str
    name: str
    received: int
    closed: int
    on_time: int
    backlog: tuple[int, int, int]
    median_accept_hours: float | None
    median_resolve_hours: float | None
    satisfaction: float | None
    ratings: int

    @property
    def on_time_rate(self) -> float | None:
        """Share of the closed reports closed by their deadline (None: none closed)."""
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True, slots=True)
class Stats:
    period: Period
    by: Dimension
    total: Figures
    groups: list[Figures]


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (as_utc(end) - as_utc(start)).total_seconds() / 3600


def _median(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


@dataclass(frozen=True, slots=True)
class _Line:
    """What the figures need of one report."""

    ward: uuid.UUID | None
    unit: uuid.UUID | None
    category: uuid.UUID
    created_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    on_time: bool | None
    kind: StateKind
    score: float | None

    def key(self, by: Dimension) -> uuid.UUID | None:
        return {"ward": self.ward, "unit": self.unit, "category": self.category}[by]


def _figures(
    key: str, name: str, rows: list[_Line], start: datetime, end: datetime, now: datetime
) -> Figures:
    received = [r for r in rows if start <= as_utc(r.created_at) < end]
    closed = [r for r in received if r.kind != StateKind.OPEN]
    backlog = [0, 0, 0]
    for r in rows:
        if r.kind == StateKind.OPEN:
            age = (now - as_utc(r.created_at)).total_seconds() / 86400
            backlog[sum(age > band for band in AGE_BANDS)] += 1
    scores = [r.score for r in received if r.score is not None]
    return Figures(
        key=key,
        name=name,
        received=len(received),
        closed=len(closed),
        on_time=sum(1 for r in closed if r.on_time),
        backlog=(backlog[0], backlog[1], backlog[2]),
        median_accept_hours=_median(_hours(r.created_at, r.accepted_at) for r in received),
        median_resolve_hours=_median(_hours(r.created_at, r.resolved_at) for r in received),
        satisfaction=sum(scores) / len(scores) if scores else None,
        ratings=len(scores),
    )


def report_stats(
    session: Session,
    actor: Principal,
    period: Period,
    by: Dimension,
    zone: ZoneInfo,
    now: datetime,
) -> Stats:
    """The figures of the reports of the actor's area (`reports:read`) for `period`.

    Received, closed, on time, medians and satisfaction count the reports sent in the
    period; the backlog counts those still open now that were sent before its end.
    """
    actor.require("reports:read")
    start, end = period.bounds(zone)
    score = (
        select(func.avg(Rating.score))
        .where(Rating.report_id == Report.id)
        .correlate(Report)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Report.admin_unit_id,
            Report.org_unit_id,
            Report.category_id,
            Report.created_at,
            Report.accepted_at,
            Report.resolved_at,
            Report.on_time,
            State.kind,
            score.label("score"),
        )
        .join(State, State.code == Report.state)
        .where(
            officer_sight(actor),
            Report.created_at < end,
            or_(Report.created_at >= start, State.kind == StateKind.OPEN),
        )
    )
    lines = [_Line(*row) for row in rows]
    groups: dict[uuid.UUID | None, list[_Line]] = defaultdict(list)
    for line in lines:
        groups[line.key(by)].append(line)
    names = _names(session, by, groups.keys())
    now = as_utc(now)
    figures = [
        _figures(str(key or ""), names.get(key, NOBODY) if key else NOBODY, found, start, end, now)
        for key, found in groups.items()
    ]
    figures.sort(key=lambda f: (-f.received, f.name))
    total = _figures("", "", lines, start, end, now)
    return Stats(period, by, total, figures)


def _names(
    session: Session, by: Dimension, keys: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    ids = {key for key in keys if key is not None}
    if by == "unit":
        return org_unit_names(session, ids)
    if by == "category":
        query = select(Category.id, Category.name).where(Category.id.in_(ids))
        return dict(session.execute(query).all())
    return {key: get_unit(session, key).name for key in ids}


def previous(period: Period, cutoff: int) -> Period:
    """The period before."""
    return period_of(period.start - timedelta(days=1), cutoff)
