"""/api/v1/dashboard: the data of the operations dashboard, for the caller's area.

Every answer is limited to the wards of the caller's scope; `ward=<code>` narrows it to
one of them (403 outside the scope, 422 for an unknown code). See docs/dashboard.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from dothi.accounts.permissions import Principal
from dothi.core.clock import local_date
from dothi.kpis import schemas as out
from dothi.kpis.area import PERMISSION, Area, area_of
from dothi.kpis.charts import aqi_chart, flood_chart, reports_chart
from dothi.kpis.dashboard import (
    alarm_layer,
    camera_layer,
    incident_layer,
    overview,
    queues,
    report_layer,
    ward_map,
)
from dothi.kpis.sensors import sensor_layer
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep

GUARD = require(PERMISSION)
Actor = Annotated[Principal, GUARD]
router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"], dependencies=[GUARD])
Ward = Annotated[
    str | None,
    Query(
        max_length=20,
        pattern=r"^[0-9A-Za-z_-]+$",
        description="Code of one ward of your area to narrow the answer to.",
    ),
]
Hours = Annotated[int, Query(ge=1, le=168, description="Hours back, the current one last.")]
Days = Annotated[int, Query(ge=1, le=366, description="Local days back, today last.")]


class Scope:
    """What every dashboard route works out first: now, the zone, the caller's area."""

    def __init__(
        self,
        session: ReadSession,
        actor: Actor,
        clock: ClockDep,
        settings: SettingsDep,
        ward: Ward = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.now: datetime = clock.now()
        self.zone = ZoneInfo(settings.timezone)
        self.area: Area = area_of(session, actor, local_date(self.now, settings.timezone), ward)
        self.period_day = settings.report_period_day


View = Annotated[Scope, Depends()]


@router.get("/overview")
def get_overview(view: View) -> out.Overview:
    """The indicator tiles: open alarms by severity, reports open and overdue with this
    period's on-time rate, sensors online, VN_AQI now (the worst ward's) and that ward."""
    return overview(view.session, view.area, view.now, view.zone, view.period_day)


@router.get("/wards")
def get_wards(view: View) -> out.FeatureCollection[out.WardProperties]:
    """The wards as simplified polygons with their open alarms, reports and VN_AQI."""
    return ward_map(view.session, view.area, view.now)


@router.get("/layers/sensors")
def get_sensors(view: View) -> out.FeatureCollection[out.SensorProperties]:
    """The sensors as points: state (ok, warning, critical, offline), last report, values."""
    return sensor_layer(view.session, view.area, view.now)


@router.get("/layers/alarms")
def get_alarms(view: View) -> out.FeatureCollection[out.AlarmProperties]:
    """The open alarms as points."""
    return alarm_layer(view.session, view.area)


@router.get("/layers/cameras")
def get_cameras(view: View) -> out.FeatureCollection[out.CameraProperties]:
    """The active cameras as points with their health (`cameras:read` as well)."""
    view.actor.require("cameras:read")
    return camera_layer(view.session, view.area)


@router.get("/layers/incidents")
def get_incidents(view: View) -> out.FeatureCollection[out.IncidentProperties]:
    """The open incidents as points with their late steps (`incidents:read` as well)."""
    view.actor.require("incidents:read")
    return incident_layer(view.session, view.area, view.now)


@router.get("/layers/reports")
def get_reports(view: View) -> out.FeatureCollection[out.ReportProperties]:
    """The open citizen reports as points, without personal data or text."""
    return report_layer(view.session, view.area, view.now)


@router.get("/charts/aqi")
def get_aqi_chart(view: View, hours: Hours = 24) -> out.AqiChart:
    """Hourly VN_AQI per ward (its worst station), from the hourly rollups."""
    return aqi_chart(view.session, view.area, view.now, hours, view.zone)


@router.get("/charts/flood")
def get_flood_chart(view: View, hours: Hours = 24) -> out.FloodChart:
    """The highest water level of each hour at each flood hotspot, in centimetres."""
    return flood_chart(view.session, view.area, view.now, hours, view.zone)


@router.get("/charts/reports")
def get_reports_chart(view: View, days: Days = 30) -> out.ReportsChart:
    """Citizen reports received per local day and category."""
    return reports_chart(view.session, view.area, view.now, days, view.zone)


@router.get("/queues")
def get_queues(view: View) -> out.Queues:
    """Open and overdue reports per handling unit (an officer: their unit's) and the ten
    most urgent open alarms."""
    return queues(view.session, view.actor, view.area, view.now)
