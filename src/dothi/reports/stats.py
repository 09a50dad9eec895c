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
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session

from dothi.accounts.models import OrgUnit
from dothi.accounts.permissions import Principal
from dothi.core.clock import as_utc
from dothi.errors import InvalidInput
from dothi.places.service import get_unit
from dothi.reports.models import Category, Rating, Report, State, StateKind
from dothi.reports.routing import org_unit_names
from dothi.reports.service import is_open, late, officer_sight, shown_publicly

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


# For dashboards: the reports of a set of wards, counted and placed ---------------------


@dataclass(frozen=True, slots=True)
class Backlog:
    """Open reports of a ward or a unit, and how many of them are overdue."""

    key: uuid.UUID | None
    code: str
    name: str
    open: int
    overdue: int


def _open_in(session: Session, ward_ids: Collection[uuid.UUID]) -> ColumnElement[bool]:
    """SQL: open reports of these wards, with the open states spelled out so that the
    planner seeks the (state, ward) index instead of walking every report of the wards."""
    codes = session.scalars(select(State.code).where(State.kind == StateKind.OPEN)).all()
    return Report.state.in_(codes) & Report.admin_unit_id.in_(ward_ids)


def _backlog(
    session: Session, ward_ids: Collection[uuid.UUID], now: datetime, *extra: ColumnElement[bool]
) -> Select[int, Any]:
    overdue = func.sum(case((late(now), 1), else_=0))
    return select(func.count(), overdue).where(_open_in(session, ward_ids), *extra)


def backlog_by_ward(
    session: Session, ward_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[int, int]]:
    """(open, overdue) reports per ward, for the wards that have any."""
    query = _backlog(session, ward_ids, now).add_columns(Report.admin_unit_id)
    rows = session.execute(query.group_by(Report.admin_unit_id))
    return {ward: (n, late_ or 0) for n, late_, ward in rows if ward is not None}


def backlog_by_unit(
    session: Session,
    ward_ids: Collection[uuid.UUID],
    now: datetime,
    org_unit_id: uuid.UUID | None = None,
) -> list[Backlog]:
    """Open and overdue reports of these wards per handling unit (or of one unit), the
    most overdue first; unrouted ones under an empty code."""
    extra = () if org_unit_id is None else (Report.org_unit_id == org_unit_id,)
    query = (
        _backlog(session, ward_ids, now, *extra)
        .add_columns(Report.org_unit_id, OrgUnit.code, OrgUnit.name)
        .outerjoin(OrgUnit, OrgUnit.id == Report.org_unit_id)
        .group_by(Report.org_unit_id, OrgUnit.code, OrgUnit.name)
    )
    found = [
        Backlog(unit, code or "", name or NOBODY, n, late_ or 0)
        for n, late_, unit, code, name in session.execute(query)
    ]
    return sorted(found, key=lambda b: (-b.overdue, -b.open, b.name))


def on_time_counts(
    session: Session, ward_ids: Collection[uuid.UUID], start: datetime, end: datetime
) -> tuple[int, int]:
    """Of the reports of these wards received in [start, end): how many are closed, and
    how many of those were closed by their deadline (see `Figures.on_time_rate`)."""
    query = (
        select(func.count(), func.sum(case((Report.on_time.is_(True), 1), else_=0)))
        .where(Report.admin_unit_id.in_(ward_ids), ~is_open())
        .where(Report.created_at >= start, Report.created_at < end)
    )
    closed, on_time = session.execute(query).one()
    return closed, on_time or 0


def received_per_day(
    session: Session, ward_ids: Collection[uuid.UUID], days: list[date], zone: ZoneInfo
) -> dict[tuple[str, str], list[int]]:
    """Reports of these wards received on each local day, per category (code, name)."""
    start, end = Period(days[0], days[-1] + timedelta(days=1)).bounds(zone)
    query = (
        select(Category.code, Category.name, Report.created_at)
        .join(Category, Category.id == Report.category_id)
        .where(Report.admin_unit_id.in_(ward_ids))
        .where(Report.created_at >= start, Report.created_at < end)
    )
    index = {day: i for i, day in enumerate(days)}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(days))
    for code, name, created_at in session.execute(query):
        day = as_utc(created_at).astimezone(zone).date()
        counts[code, name][index[day]] += 1
    return dict(counts)


@dataclass(frozen=True, slots=True)
class ReportPoint:
    """A report on a map: no personal data, no free text."""

    code: str
    category: str
    category_name: str
    state: str
    state_label: str
    overdue: bool
    submitted_at: datetime
    due_at: datetime | None
    ward_id: uuid.UUID | None
    lon: float
    lat: float


def report_points(
    session: Session,
    ward_ids: Collection[uuid.UUID],
    now: datetime,
    *,
    code: str | None = None,
) -> list[ReportPoint]:
    """The open reports of these wards; or, by `code`, the public report of that tracking
    code (open or not) if it is in these wards."""
    where = (
        [_open_in(session, ward_ids)]
        if code is None
        else [Report.tracking_code == code, shown_publicly(), Report.admin_unit_id.in_(ward_ids)]
    )
    query = (
        select(
            Report.tracking_code,
            Category.code,
            Category.name,
            State.code,
            State.name,
            is_open() & late(now),
            Report.created_at,
            Report.due_at,
            Report.admin_unit_id,
            Report.lon,
            Report.lat,
        )
        .join(Category, Category.id == Report.category_id)
        .join(State, State.code == Report.state)
        .where(*where)
        .order_by(Report.created_at)
    )
    return [
        ReportPoint(*row[:5], bool(row[5]), as_utc(row[6]), row[7] and as_utc(row[7]), *row[8:])
        for row in session.execute(query)
    ]
