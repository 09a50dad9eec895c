"""The operations dashboard: the overview (map, indicators, live alarms, charts), the
leader's phone view and the wall mode.

The pages are frames: their data comes from `/api/v1/dashboard/*` (scoped to the caller's
area), the alarm list and the live feed (`/api/v1/stream`). What the page itself knows is
the caller's area, the names of its wards (the feed names a ward by its id) and, for an
officer, their unit's queue of open reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal, Role
from dothi.core.clock import Clock
from dothi.reports import service
from dothi.reports.schemas import OfficerQuery, ReportDetail
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.pages.reports_common import map_settings
from dothi.web.pages.scope import places_in_scope
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

QUEUE_SIZE = 10
"""Reports of the officer's unit shown in the queue panel (the workspace has them all)."""
WALL_SECONDS = 20
"""How long a panel of the wall stays before the next one."""

Reader = Annotated[Principal, require("dashboard:read")]


def can_read_dashboard(actor: Principal) -> bool:
    """Whether the dashboard has something for this actor (home leads them there)."""
    return actor.can("dashboard:read")


@dataclass(frozen=True, slots=True)
class Area:
    """What the caller sees: the name of their area and the wards in it (id -> name)."""

    name: str
    wards: dict[str, str]
    ward_view: bool


def area_of(session: Session, actor: Principal, clock: Clock, zone: str) -> Area:
    """The units of the actor's scope: their top units name the area."""
    units = places_in_scope(session, actor, clock, zone)
    tops = [unit for unit in units if unit.path in actor.scope_paths] or units[:1]
    wards = {str(unit.id): unit.name for unit in units if unit.level == "ward"}
    ward_view = bool(tops) and all(unit.level == "ward" for unit in tops)
    return Area(", ".join(unit.name for unit in tops), wards, ward_view)


def unit_queue(session: Session, actor: Principal, clock: Clock) -> list[ReportDetail]:
    """The open reports routed to the officer's unit, nearest deadline first."""
    if actor.org_unit_id is None or not actor.can("reports:handle"):
        return []
    query = OfficerQuery(status="open", mine=True, limit=QUEUE_SIZE)
    return list(service.list_reports(session, actor, query, clock).items)


def _context(
    request: Request, session: Session, actor: Principal, clock: Clock, zone: str, title: str
) -> dict[str, Any]:
    area = area_of(session, actor, clock, zone)
    return {
        "title": title,
        "actor": actor,
        "csrf_token": csrf_token(request),
        "area": area,
        "zone": zone,
        "can_ack": actor.can("alarms:handle"),
        "is_officer": actor.role == Role.OFFICER,
    }


@router.get("/dashboard", response_class=HTMLResponse)
def overview(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
) -> HTMLResponse:
    """The operators' overview; a ward officer gets their ward and their unit's queue."""
    context = _context(request, session, actor, clock, settings.timezone, "Operations dashboard")
    context["map"] = map_settings(settings)
    context["queue"] = unit_queue(session, actor, clock) if context["is_officer"] else []
    return render(request, "dashboard.html", context)


@router.get("/dashboard/leader", response_class=HTMLResponse)
def leader(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
) -> HTMLResponse:
    """Indicators, top alarms and overdue reports by unit on one phone-sized page."""
    context = _context(request, session, actor, clock, settings.timezone, "Leader view")
    return render(request, "dashboard_leader.html", context)


@router.get("/dashboard/wall", response_class=HTMLResponse)
def wall(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
) -> HTMLResponse:
    """The big screen: dark, no chrome, panels in turn, large type."""
    context = _context(request, session, actor, clock, settings.timezone, "Wall")
    context["map"] = map_settings(settings)
    context["rotate_seconds"] = WALL_SECONDS
    return render(request, "dashboard_wall.html", context)
