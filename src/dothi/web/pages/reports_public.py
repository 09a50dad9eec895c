"""The public map and list of reports, and a report's public page; no login.

Only what `reports.service` publishes is shown: never a phone or an e-mail, a name only
when the reporter chose to show it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dothi.core.clock import Clock, local_date
from dothi.places.models import AdminUnit
from dothi.places.service import MAX_PAGE, list_units
from dothi.reports import service
from dothi.reports.schemas import PublicQuery, ReportPublic
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.pages.reports_common import Visitor, category_groups, render_public
from dothi.web.pages.scope import PAGE_SIZE, page_count, page_offset

router = APIRouter(include_in_schema=False)

MAP_LIMIT = 500
"""Markers on the public map: the newest reports matching the filters."""

Category = Annotated[str, Query(max_length=40)]
Status = Annotated[Literal["open", "closed"] | None, Query()]
Ward = Annotated[uuid.UUID | None, Query()]


def wards(session: Session, clock: Clock, zone: str) -> list[AdminUnit]:
    """The wards of today, for the filter menus."""
    today = local_date(clock.now(), zone)
    return list_units(session, level="ward", at=today, limit=MAX_PAGE)


def _filters(session: Session, clock: Clock, zone: str, selected: dict[str, Any]) -> dict[str, Any]:
    return {
        "groups": category_groups(session),
        "places": wards(session, clock, zone),
        "selected": selected,
    }


@router.get("/reports", response_class=HTMLResponse)
def public_list(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    _visitor: Visitor,
    category: Category = "",
    status: Status = None,
    ward: Ward = None,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """Public reports, newest first, filtered and searched."""
    query = PublicQuery(
        category=category or None,
        status=status,
        ward=ward,
        q=q or None,
        limit=PAGE_SIZE,
        offset=page_offset(page),
    )
    found = service.list_public(session, query)
    selected = {"category": category, "status": status, "ward": ward, "q": q}
    context = {
        "title": "Citizen reports",
        "found": found,
        "page": page,
        "pages": page_count(found.total),
        **_filters(session, clock, settings.timezone, selected),
    }
    return render_public(request, "reports_public.html", context)


def _marker(report: ReportPublic, lang: str) -> dict[str, Any]:
    """What the map shows of a report (public fields only)."""
    return {
        "code": report.tracking_code,
        "lat": report.lat,
        "lon": report.lon,
        "category": report.category_name,
        "state": report.state.name if lang == "vi" else report.state.name_en,
        "kind": report.state.kind.value,
        "url": f"/reports/{report.tracking_code}",
    }


@router.get("/reports/map", response_class=HTMLResponse)
def public_map(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    _visitor: Visitor,
    category: Category = "",
    status: Status = None,
    ward: Ward = None,
) -> HTMLResponse:
    """The newest public reports on a map of the wards."""
    query = PublicQuery(category=category or None, status=status, ward=ward, limit=MAP_LIMIT)
    found = service.list_public(session, query)
    lang = request.app.state.templates.locale_of(request)
    selected = {"category": category, "status": status, "ward": ward}
    context = {
        "title": "Map of citizen reports",
        "found": found,
        "markers": [_marker(report, lang) for report in found.items],
        **_filters(session, clock, settings.timezone, selected),
    }
    return render_public(request, "reports_map.html", context)


@router.get("/reports/{code}", response_class=HTMLResponse)
def public_report(
    request: Request, session: ReadSession, _visitor: Visitor, code: str
) -> HTMLResponse:
    """A public report and its public history; anyone may follow it by e-mail."""
    report = service.get_public(session, code)
    return render_public(request, "report_public.html", {"title": code, "report": report})
