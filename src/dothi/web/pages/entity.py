"""An entity's page: its latest values, a chart per attribute (from the series API) and
the alarms it raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.alarms.models import Alarm
from dothi.alarms.views import alarms_query
from dothi.places.models import AdminUnit
from dothi.telemetry.entities import get_entity
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ReadSession, SettingsDep
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

HISTORY = 50
"""Alarms of the entity listed, newest first."""


@dataclass(frozen=True, slots=True)
class Latest:
    """The latest value of one observed attribute."""

    name: str
    value: float | str | None
    unit: str | None
    observed_at: datetime | None

    @property
    def numeric(self) -> bool:
        return isinstance(self.value, float | int)


def _label(properties: dict[str, Any], name: str) -> str | None:
    """A static property's value (normalized NGSI-LD: `{"type": "Property", "value": …}`)."""
    found = properties.get(name)
    value = found.get("value") if isinstance(found, dict) else found
    return value if isinstance(value, str) else None


def alarm_history(session: Session, actor: Principal, entity_id: str) -> list[Alarm]:
    """The entity's alarms in the actor's area, newest first."""
    if not actor.can("alarms:read"):
        return []
    query = alarms_query(actor, "all", entity_id=entity_id)
    return list(
        session.scalars(query.order_by(None).order_by(Alarm.raised_at.desc()).limit(HISTORY))
    )


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(
    entity_id: str,
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    actor: Annotated[Principal, require("telemetry:read")],
) -> HTMLResponse:
    """One sensor or device: what it says now, its history and its alarms."""
    found = get_entity(session, actor, entity_id)
    entity = found.entity
    latest = [
        Latest(a.name, a.number if a.number is not None else a.text, a.unit_code, a.observed_at)
        for a in sorted(found.attributes, key=lambda a: a.name)
    ]
    ward = session.get(AdminUnit, entity.admin_unit_id) if entity.admin_unit_id else None
    context = {
        "title": _label(entity.properties, "name") or entity.id,
        "actor": actor,
        "csrf_token": csrf_token(request),
        "entity": entity,
        "name": _label(entity.properties, "name"),
        "ward": ward.name if ward else None,
        "latest": latest,
        "alarms": alarm_history(session, actor, entity.id),
        "zone": settings.timezone,
    }
    return render(request, "entity.html", context)
