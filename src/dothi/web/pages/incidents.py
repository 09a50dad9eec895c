"""The pages of how the IOC acts: the incidents of one's area and an incident's page, the
directives board (a leader's, usable from a phone, and a unit's own parts), the shift log.

The pages read through the incidents services, which decide scope and rights; every action
is a call of the JSON API (`/api/v1/incidents`, `/directives`, `/shifts`) from
`static/incidents.js`, which reloads the page with what the server answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from shapely.geometry import shape
from sqlalchemy.orm import Session

from dothi.accounts.orgunits import list_org_units
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import OrgUnitOut, OrgUnitQuery
from dothi.core.clock import Clock, as_utc
from dothi.incidents import directives, service, shifts, steps
from dothi.incidents.schemas import (
    BoardItem,
    DirectiveOut,
    DirectiveQuery,
    Handover,
    IncidentQuery,
    TargetOut,
)
from dothi.incidents.service import MANUAL
from dothi.incidents.vocab import IncidentStatus, TargetState
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.pages.scope import places_in_scope
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, require("incidents:read")]
UnitHandler = Annotated[Principal, require("directives:handle")]
Keeper = Annotated[Principal, require("shifts:keep")]
StatusFilter = Literal["open", "all"] | IncidentStatus

LIST_SIZE = 200
"""Incidents shown on the list page, newest first."""
RECENT_SHIFTS = 20
MOVES = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED, IncidentStatus.IN_PROGRESS)
"""The status changes the incident page offers, when the current status allows them."""


def _context(request: Request, actor: Principal, title: str, **more: Any) -> dict[str, Any]:
    return {"title": title, "actor": actor, "csrf_token": csrf_token(request), **more}


def _units(session: Session, actor: Principal) -> list[OrgUnitOut]:
    """The active organisational units of the actor's area, by code."""
    if not actor.can("orgunits:read"):
        return []
    query = OrgUnitQuery(active=True, limit=500)
    return list(list_org_units(session, actor, query).items)


def _ward_names(
    session: Session, actor: Principal, clock: Clock, zone: str
) -> dict[uuid.UUID, str]:
    return {place.id: place.name for place in places_in_scope(session, actor, clock, zone)}


def _minutes_since(moment: datetime, now: datetime) -> int:
    return max(0, int((now - as_utc(moment)).total_seconds() // 60))


# Incidents -----------------------------------------------------------------------------------


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    status: Annotated[StatusFilter, Query()] = "open",
) -> HTMLResponse:
    """The incidents of one's area, newest first, with their age and late steps."""
    found = service.list_incidents(session, actor, IncidentQuery(status=status, limit=LIST_SIZE))
    now = clock.now()
    context = _context(
        request,
        actor,
        "Incidents",
        found=found,
        status=status,
        statuses=list(IncidentStatus),
        late=steps.late_counts(session, [i.id for i in found.items], now),
        ages={i.id: _minutes_since(i.opened_at, now) for i in found.items},
        wards=_ward_names(session, actor, clock, settings.timezone),
        units={unit.id: unit.name for unit in _units(session, actor)},
        ward_points=_ward_points(session, actor, clock, settings.timezone),
    )
    return render(request, "incidents.html", context)


def _ward_points(
    session: Session, actor: Principal, clock: Clock, zone: str
) -> list[tuple[str, float, float]]:
    """Each ward of the actor's area with a point inside it: where an incident reported by
    ward only (a message of the city) is placed until someone gives its exact place."""
    wards = [p for p in places_in_scope(session, actor, clock, zone) if p.level == "ward"]
    points = [shape(ward.boundary).representative_point() for ward in wards if ward.boundary]
    named = zip((w for w in wards if w.boundary), points, strict=True)
    return sorted((ward.name, point.x, point.y) for ward, point in named)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    incident_id: uuid.UUID,
) -> HTMLResponse:
    """An incident: its causes, SOP steps, timeline and the actions one may take."""
    incident = service.incident_detail(session, actor, incident_id, clock)
    units = _units(session, actor)
    current = IncidentStatus(incident.status.code)
    context = _context(
        request,
        actor,
        incident.title,
        incident=incident,
        age=_minutes_since(incident.opened_at, clock.now()),
        wards=_ward_names(session, actor, clock, settings.timezone),
        units={unit.id: unit.name for unit in units},
        units_of_kind=_by_kind(units),
        moves=[move for move in MOVES if current in MANUAL[move]],
        can_manage=actor.can("incidents:manage"),
        can_handle=actor.can("incidents:handle"),
    )
    return render(request, "incident.html", context)


def _by_kind(units: list[OrgUnitOut]) -> dict[str, list[OrgUnitOut]]:
    found: dict[str, list[OrgUnitOut]] = {}
    for unit in units:
        found.setdefault(unit.kind, []).append(unit)
    return found


# Directives ----------------------------------------------------------------------------------


def _board_order(item: BoardItem) -> tuple[bool, bool, datetime]:
    """Overdue first, then open ones, each by deadline."""
    return (not item.overdue, item.state.code == TargetState.CLOSED, item.deadline)


def _own_parts(
    found: list[DirectiveOut], unit: uuid.UUID | None
) -> list[tuple[DirectiveOut, TargetOut]]:
    """Each directive with the part of the actor's unit only; overdue first, by deadline."""
    parts = [
        (directive, target)
        for directive in found
        for target in directive.targets
        if target.org_unit_id == unit
    ]
    return sorted(parts, key=lambda part: (not part[1].overdue, part[0].deadline))


@router.get("/directives", response_class=HTMLResponse)
def directive_board(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: UnitHandler,
) -> HTMLResponse:
    """The leader's board of directives by unit with the form to issue one; a unit's own
    parts with acknowledge, progress and close."""
    issuer = actor.can("directives:issue")
    board = directives.board(session, actor, clock) if issuer else []
    for row in board:
        row.items.sort(key=_board_order)
    mine = directives.list_directives(session, actor, DirectiveQuery(status="open"), clock)
    local_now = as_utc(clock.now()).astimezone(request.app.state.templates.zone)
    deadline = (local_now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    context = _context(
        request,
        actor,
        "Directives",
        issuer=issuer,
        board=board,
        parts=_own_parts(mine, actor.org_unit_id),
        units=_units(session, actor) if issuer else [],
        deadline=deadline.strftime("%Y-%m-%dT%H:%M"),
        earliest=local_now.strftime("%Y-%m-%dT%H:%M"),
        offset=deadline.isoformat()[-6:],
        zone=settings.timezone,
    )
    return render(request, "directives.html", context)


# Shifts --------------------------------------------------------------------------------------


@router.get("/shifts", response_class=HTMLResponse)
def shift_log(
    request: Request, session: ReadSession, clock: ClockDep, actor: Keeper
) -> HTMLResponse:
    """One's shift: open it, its log book, the handover drafted from what is open now and
    closing it; the handovers of others waiting for one's signature; recent shifts."""
    mine = shifts.open_shift_of(session, actor)
    recent = shifts.list_shifts(session, actor, RECENT_SHIFTS, 0)
    to_sign = [
        (shift, Handover.model_validate(shift.handover))
        for shift in recent
        if shift.closed_at
        and shift.handover
        and not shift.signed_by
        and shift.operator != actor.username
    ]
    context = _context(
        request,
        actor,
        "Shift log",
        mine=mine,
        log=shifts.log_of(session, mine.id) if mine else [],
        handover=shifts.draft_handover(session, actor, mine, clock.now()) if mine else None,
        to_sign=to_sign,
        recent=recent,
    )
    return render(request, "shifts.html", context)
