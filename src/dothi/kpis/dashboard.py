"""The dashboard's indicators, ward map, alarm, incident and report layers and queues of an area.

Each answer reads what it needs set-based: grouped counts over the open alarms and
reports of the area's wards (indexed by state), the latest values table, hourly rollups.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal, Role
from dothi.alarms.models import AlarmState
from dothi.alarms.views import OpenAlarm, open_alarm_counts, open_alarms
from dothi.cameras.service import cameras_in
from dothi.core.clock import local_date
from dothi.incidents.service import open_in_wards
from dothi.incidents.sops import sop
from dothi.incidents.steps import late_counts
from dothi.kpis import schemas as out
from dothi.kpis.air import air_series
from dothi.kpis.area import Area
from dothi.kpis.sensors import census
from dothi.reports.stats import (
    backlog_by_unit,
    backlog_by_ward,
    on_time_counts,
    period_of,
    report_points,
)

SIMPLIFY = 0.00003  # degrees, about 3 m: invisible at the zoom of a district
DIGITS = 5  # about 1 m
TOP_ALARMS = 10


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def overview(
    session: Session, area: Area, now: datetime, zone: ZoneInfo, period_day: int
) -> out.Overview:
    """The indicator tiles of the area: alarms, reports this period, sensors, VN_AQI now."""
    alarms = open_alarm_counts(session, area.ids)
    by_severity = dict.fromkeys(("critical", "warning", "info"), 0)
    for (_, severity, _), n in alarms.items():
        by_severity[severity] = by_severity.get(severity, 0) + n
    unacknowledged = sum(n for (_, _, state), n in alarms.items() if state == AlarmState.ACTIVE)
    backlog = backlog_by_ward(session, area.ids, now).values()
    period = period_of(local_date(now, zone.key), period_day)
    closed, on_time = on_time_counts(session, area.ids, *period.bounds(zone))
    sensors = census(session, area)
    total, online = len(sensors.sensors), sensors.online(now)
    air = air_series(session, area, now, 1)
    known = [(ward, index) for ward in area.wards if (index := air.latest(ward.id)) is not None]
    top = max(known, key=lambda found: found[1], default=None)
    return out.Overview(
        at=now,
        zone=zone.key,
        area=out.Named(code=area.code, name=area.name),
        alarms=out.AlarmTiles(**by_severity, unacknowledged=unacknowledged),
        reports=out.ReportTiles(
            open=sum(n for n, _ in backlog),
            overdue=sum(late for _, late in backlog),
            on_time_rate=_rate(on_time, closed),
            period=out.PeriodOut(start=period.start, end=period.end),
        ),
        sensors=out.SensorTiles(total=total, online=online, online_rate=_rate(online, total)),
        aqi=out.AqiTiles(
            now=None if top is None else top[1],
            worst_ward=None
            if top is None
            else out.WardAqi(code=top[0].code, name=top[0].name, aqi=top[1]),
        ),
    )


def ward_map(
    session: Session, area: Area, now: datetime
) -> out.FeatureCollection[out.WardProperties]:
    """The area's wards as simplified polygons with their open alarms and reports, VN_AQI."""
    alarms = open_alarm_counts(session, area.ids)
    backlog = backlog_by_ward(session, area.ids, now)
    air = air_series(session, area, now, 1)
    features: list[out.Feature[out.WardProperties]] = []
    for ward in area.wards:
        here = [(severity, n) for (at, severity, _), n in alarms.items() if at == ward.id]
        reports = backlog.get(ward.id, (0, 0))
        properties = out.WardProperties(
            code=ward.code,
            name=ward.name,
            open_alarms=sum(n for _, n in here),
            critical_alarms=sum(n for severity, n in here if severity == "critical"),
            open_reports=reports[0],
            overdue_reports=reports[1],
            aqi=air.latest(ward.id),
        )
        geometry = _simplified(ward.boundary) if ward.boundary else None
        features.append(out.Feature(geometry=geometry, properties=properties))
    return out.FeatureCollection(features=features)


def _simplified(boundary: dict[str, Any]) -> dict[str, Any]:
    """A boundary light enough for the web: simplified, coordinates rounded."""
    simple = shapely.simplify(shape(boundary), SIMPLIFY, preserve_topology=True)
    geometry: dict[str, Any] = mapping(simple)
    return {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])}


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates[0], float | int):
        return [round(c, DIGITS) for c in coordinates]
    return [_rounded(part) for part in coordinates]


def _alarm(area: Area, alarm: OpenAlarm) -> out.AlarmItem:
    return out.AlarmItem(
        id=alarm.id,
        severity=alarm.severity,
        state=alarm.state,
        rule=alarm.rule,
        rule_name=alarm.rule_name,
        entity=alarm.entity_id,
        ward=area.code_of(alarm.ward_id),
        raised_at=alarm.raised_at,
        value=alarm.value,
        lon=alarm.lon,
        lat=alarm.lat,
    )


def alarm_layer(session: Session, area: Area) -> out.FeatureCollection[out.AlarmProperties]:
    """The open alarms of the area as points (those with a place)."""
    return out.FeatureCollection(
        features=[
            out.Feature(
                geometry=out.point(alarm.lon, alarm.lat),
                properties=out.AlarmProperties(**_alarm(area, alarm).model_dump()),
            )
            for alarm in open_alarms(session, area.ids)
            if alarm.lon is not None
        ]
    )


def camera_layer(session: Session, area: Area) -> out.FeatureCollection[out.CameraProperties]:
    """The active cameras of the area as points, coloured by their health on the map."""
    return out.FeatureCollection(
        features=[
            out.Feature(
                geometry=out.point(camera.lon, camera.lat),
                properties=out.CameraProperties(
                    code=camera.code,
                    name=camera.name,
                    ward=area.code_of(camera.admin_unit_id),
                    health=camera.health,
                    purposes=list(camera.purposes),
                    heading=camera.heading,
                    has_snapshot=camera.snapshot_url is not None,
                ),
            )
            for camera in cameras_in(session, area.ids)
        ]
    )


def incident_layer(
    session: Session, area: Area, now: datetime
) -> out.FeatureCollection[out.IncidentProperties]:
    """The open incidents of the area as points, with how many of their steps are late."""
    incidents = open_in_wards(session, area.ids)
    late = late_counts(session, [incident.id for incident in incidents], now)
    return out.FeatureCollection(
        features=[
            out.Feature(
                geometry=out.point(incident.lon, incident.lat),
                properties=out.IncidentProperties(
                    id=incident.id,
                    title=incident.title,
                    type=incident.type,
                    type_label=sop(incident.type).name,
                    priority=incident.priority.code,
                    status=incident.status.code,
                    status_label=incident.status.label,
                    ward=area.code_of(incident.ward_id),
                    opened_at=incident.opened_at,
                    late_steps=late.get(incident.id, 0),
                ),
            )
            for incident in incidents
        ]
    )


def report_layer(
    session: Session, area: Area, now: datetime
) -> out.FeatureCollection[out.ReportProperties]:
    """The open reports of the area as points: code, category, state, deadlines only."""
    return out.FeatureCollection(
        features=[
            out.Feature(
                geometry=out.point(report.lon, report.lat),
                properties=out.ReportProperties(
                    code=report.code,
                    category=report.category,
                    category_name=report.category_name,
                    state=report.state,
                    state_label=report.state_label,
                    overdue=report.overdue,
                    submitted_at=report.submitted_at,
                    due_at=report.due_at,
                ),
            )
            for report in report_points(session, area.ids, now)
        ]
    )


def queues(session: Session, actor: Principal, area: Area, now: datetime) -> out.Queues:
    """Open and overdue reports per handling unit (an officer: their unit's queue) and the
    ten most urgent open alarms, critical and oldest first."""
    mine = actor.org_unit_id if actor.role == Role.OFFICER else None
    if actor.role == Role.OFFICER and mine is None:
        units: Iterable[out.UnitQueue] = []
    else:
        units = (
            out.UnitQueue(unit=b.code, name=b.name, open=b.open, overdue=b.overdue)
            for b in backlog_by_unit(session, area.ids, now, mine)
        )
    top = open_alarms(session, area.ids, TOP_ALARMS)
    return out.Queues(units=list(units), top_alarms=[_alarm(area, alarm) for alarm in top])
