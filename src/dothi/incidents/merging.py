"""Alarms and citizen reports of the same kind near an incident, suggested for merging.

Read through the alarms and reports services: the alarms of the actor's area, the open
public reports near a point. "The same kind" is what the incident type's SOP lists.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.alarms.views import alarms_query
from dothi.core.clock import as_utc
from dothi.core.geo import distance_m
from dothi.incidents import sops
from dothi.incidents.access import visible_incident
from dothi.incidents.models import Incident, IncidentLink
from dothi.incidents.schemas import Suggestion
from dothi.incidents.vocab import LinkKind
from dothi.reports.service import nearby

RADIUS_M = 500.0
"""How near a cause must be to the incident."""
WINDOW = timedelta(hours=6)
"""How close in time to the opening of the incident."""
MAX_ALARMS = 1000
"""The newest alarms of the area looked through."""


def suggestions(session: Session, actor: Principal, incident_id: uuid.UUID) -> list[Suggestion]:
    """Causes not linked yet: alarms (the actor's `alarms:read`) and public open reports
    within `RADIUS_M` and `WINDOW` of the incident, nearest first."""
    incident = visible_incident(session, actor, incident_id)
    template = sops.sop(incident.type)
    linked = set(
        session.execute(
            select(IncidentLink.kind, IncidentLink.ref).where(
                IncidentLink.incident_id == incident.id
            )
        )
    )
    found = [*_alarms(session, actor, incident, template), *_reports(session, incident, template)]
    fresh = [s for s in found if (s.kind.value, s.ref) not in linked and s.distance_m <= RADIUS_M]
    return sorted(fresh, key=lambda s: (s.distance_m, s.ref))


def _near_in_time(incident: Incident, moment: datetime) -> bool:
    return abs(as_utc(moment) - as_utc(incident.opened_at)) <= WINDOW


def _alarms(
    session: Session, actor: Principal, incident: Incident, template: sops.Sop
) -> list[Suggestion]:
    if not template.alarm_rules or not actor.can("alarms:read"):
        return []
    alarms = session.scalars(alarms_query(actor, "all").limit(MAX_ALARMS)).all()
    return [
        Suggestion(
            kind=LinkKind.ALARM,
            ref=str(alarm.id),
            title=f"{alarm.rule_name}: {alarm.reason}",
            lon=alarm.lon,
            lat=alarm.lat,
            at=alarm.raised_at,
            distance_m=round(distance_m(incident.lon, incident.lat, alarm.lon, alarm.lat), 1),
        )
        for alarm in alarms
        if alarm.rule_code in template.alarm_rules
        and alarm.lon is not None
        and alarm.lat is not None
        and _near_in_time(incident, alarm.raised_at)
    ]


def _reports(session: Session, incident: Incident, template: sops.Sop) -> list[Suggestion]:
    return [
        Suggestion(
            kind=LinkKind.REPORT,
            ref=report.tracking_code,
            title=f"{report.category_name}: {report.description}"[:200],
            lon=report.lon,
            lat=report.lat,
            at=report.created_at,
            distance_m=round(distance_m(incident.lon, incident.lat, report.lon, report.lat), 1),
        )
        for category in template.report_categories
        for report in nearby(session, incident.lon, incident.lat, category, RADIUS_M)
        if _near_in_time(incident, report.created_at)
    ]
