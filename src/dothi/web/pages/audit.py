"""The audit log page: who changed what, and who read whose personal data, in one's area."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import AuditQuery, Filter
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.pages.scope import PAGE_SIZE, page_count, page_offset, places_in_scope
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Annotated[Principal, require("audit:read")],
    action: Annotated[Filter | None, Query()] = None,
    by: Annotated[Filter | None, Query(alias="actor")] = None,
    ward: Annotated[uuid.UUID | None, Query()] = None,
    day: Annotated[date | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Entries about places in the actor's scope, newest first, filtered and paged."""
    since = until = None
    if day is not None:  # a calendar day where the deployment is, not in UTC
        since = datetime.combine(day, time(), ZoneInfo(settings.timezone))
        until = since + timedelta(days=1)
    query = AuditQuery(
        action=action or None,
        actor=by or None,
        ward=ward,
        since=since,
        until=until,
        limit=PAGE_SIZE,
        offset=page_offset(page),
    )
    found = audit.list_entries(session, actor, query)
    places = places_in_scope(session, actor, clock, settings.timezone)
    context = {
        "title": "Audit log",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "found": found,
        "page": page,
        "pages": page_count(found.total),
        "places": places,
        "place_names": {place.id: place.name for place in places},
        "selected": {"action": action, "actor": by, "ward": ward, "day": day},
        "known_actions": audit.known_actions(session),
        "head": audit.head(session),
    }
    return render(request, "audit.html", context)
