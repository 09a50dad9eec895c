"""The camera wall: the cameras of one's area by ward, their health and their pictures now
(faces and plates pixelated, through the snapshot proxy), and how much of the main roads they
watch. A ward officer sees their ward's cameras only."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dothi.accounts.permissions import Principal
from dothi.cameras import service
from dothi.cameras.schemas import Purpose
from dothi.core.clock import local_date
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep
from dothi.web.pages.scope import page_count, places_in_scope
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

TILES = 24
"""Cameras on one page of the wall: each shown picture is asked for every 10 seconds."""
HEALTHS = ("online", "degraded", "offline", "unknown")


@router.get("/cameras", response_class=HTMLResponse)
def camera_wall(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Annotated[Principal, require("cameras:read")],
    ward: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9A-Za-z_-]*$")] = None,
    health: Annotated[str | None, Query(pattern="^(|online|degraded|offline|unknown)$")] = None,
    purpose: Annotated[Purpose | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """The wall of the actor's cameras, filtered by ward, health and purpose, 24 a page."""
    day = local_date(clock.now(), settings.timezone)
    everything = service.list_cameras(session, actor, service.CameraQuery(), day)
    query = service.CameraQuery([ward] if ward else [], purpose, health or None)
    chosen = service.list_cameras(session, actor, query, day)
    wards = [
        (unit.code, unit.name)
        for unit in places_in_scope(session, actor, clock, settings.timezone)
        if unit.level == "ward"
    ]
    context = {
        "title": "Cameras",
        "actor": actor,
        "cameras": [
            service.camera_out(session, camera)
            for camera in chosen[(page - 1) * TILES : page * TILES]
        ],
        "counts": Counter(camera.health for camera in everything),
        "total": len(everything),
        "found": len(chosen),
        "healths": HEALTHS,
        "wards": sorted(wards),
        "selected": {"ward": ward or "", "health": health or "", "purpose": purpose or ""},
        "coverage": service.road_coverage_of(session, actor, day),
        "ward_names": dict(wards),
        "page": page,
        "pages": page_count(len(chosen), TILES),
    }
    return render(request, "cameras.html", context)
