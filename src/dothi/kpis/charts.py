"""The dashboard's charts: hourly VN_AQI per ward, flood levels at hotspots, reports per day.

Hours are UTC hour starts; report days are local days of the deployment's zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dothi.core.clock import local_date
from dothi.kpis import schemas as out
from dothi.kpis.air import air_series
from dothi.kpis.area import Area
from dothi.reports.stats import received_per_day
from dothi.telemetry.facts import entities_of_type, entity_names, hour_span, hourly_maxima

FLOOD_TYPE = "FloodMonitoring"
FLOOD_LEVEL = "currentLevel"  # metres; the chart shows centimetres
CM_PER_M = 100


def aqi_chart(
    session: Session, area: Area, now: datetime, hours: int, zone: ZoneInfo
) -> out.AqiChart:
    """Each ward's hourly VN_AQI (its worst station) over the last `hours`; wards without a
    station are left out."""
    air = air_series(session, area, now, hours)
    series = [
        out.AqiSeries(
            ward=ward.code,
            name=ward.name,
            points=list(zip(air.hours, air.wards[ward.id], strict=True)),
        )
        for ward in area.wards
        if ward.id in air.wards
    ]
    return out.AqiChart(zone=zone.key, series=series)


def flood_chart(
    session: Session, area: Area, now: datetime, hours: int, zone: ZoneInfo
) -> out.FloodChart:
    """The highest water level of each hour at each flood hotspot of the area, in cm."""
    sensors = entities_of_type(session, FLOOD_TYPE, area.ids)
    ids = [s.id for s in sensors]
    names = entity_names(session, ids)
    peaks = hourly_maxima(session, ids, [FLOOD_LEVEL], now, hours)
    span = hour_span(now, hours)
    series = []
    for sensor in sensors:
        levels = peaks.get(sensor.id, {}).get(FLOOD_LEVEL, [None] * hours)
        points = [
            (hour, None if level is None else round(level * CM_PER_M, 1))
            for hour, level in zip(span, levels, strict=True)
        ]
        series.append(
            out.FloodSeries(
                entity=sensor.id,
                name=names.get(sensor.id, sensor.id),
                ward=area.code_of(sensor.admin_unit_id),
                points=points,
            )
        )
    return out.FloodChart(zone=zone.key, series=series)


def reports_chart(
    session: Session, area: Area, now: datetime, days: int, zone: ZoneInfo
) -> out.ReportsChart:
    """Reports received per local day and category over the last `days` days (today last),
    the busiest category first."""
    today = local_date(now, zone.key)
    dates = [today - timedelta(days=days - 1 - i) for i in range(days)]
    counts = received_per_day(session, area.ids, dates, zone)
    series = [
        out.CategorySeries(category=code, name=name, counts=found)
        for (code, name), found in sorted(counts.items(), key=lambda item: -sum(item[1]))
    ]
    return out.ReportsChart(zone=zone.key, days=dates, series=series)
