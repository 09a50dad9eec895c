"""Statistics of reports for a period (`reports:read`): a table, a bar chart and a CSV file."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.config import Settings
from dothi.core.clock import Clock, local_date
from dothi.reports.stats import Dimension, Stats, period_of, report_stats
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.templating import render

router = APIRouter(prefix="/workspace/statistics", include_in_schema=False)

Reader = Annotated[Principal, require("reports:read")]
By = Annotated[Dimension, Query()]
Day = Annotated[date | None, Query(description="Any day of the period (default: today).")]
CSV_COLUMNS = (
    "group",
    "received",
    "closed",
    "on_time",
    "on_time_rate",
    "backlog_0_3_days",
    "backlog_3_7_days",
    "backlog_over_7_days",
    "median_hours_to_accept",
    "median_hours_to_resolve",
    "satisfaction",
    "ratings",
)


def _stats(
    session: Session,
    actor: Principal,
    settings: Settings,
    clock: Clock,
    by: Dimension,
    day: date | None,
) -> Stats:
    today = local_date(clock.now(), settings.timezone)
    period = period_of(day or today, settings.report_period_day)
    return report_stats(session, actor, period, by, ZoneInfo(settings.timezone), clock.now())


@router.get("", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    by: By = "ward",
    day: Day = None,
) -> HTMLResponse:
    """The figures of the period by ward, unit or category, with a bar chart."""
    stats = _stats(session, actor, settings, clock, by, day)
    widest = max([g.received for g in stats.groups] + [1])
    context = {
        "title": "Report statistics",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "stats": stats,
        "widest": widest,
        "day": day,
    }
    return render(request, "report_stats.html", context)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@router.get(".csv")
def statistics_csv(
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    by: By = "ward",
    day: Day = None,
) -> Response:
    """The same figures as a CSV file (UTF-8 with a BOM, so that spreadsheets read the accents)."""
    stats = _stats(session, actor, settings, clock, by, day)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for group in [*stats.groups, stats.total]:
        writer.writerow(
            [
                group.name or "total",
                group.received,
                group.closed,
                group.on_time,
                _number(group.on_time_rate),
                *group.backlog,
                _number(group.median_accept_hours),
                _number(group.median_resolve_hours),
                _number(group.satisfaction),
                group.ratings,
            ]
        )
    name = f"reports-{stats.period.start}-{stats.period.end}-{by}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
