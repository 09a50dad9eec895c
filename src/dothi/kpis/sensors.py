"""Sensors of an area: online or not, their state on the map and a few latest values.

A sensor is online when it sent something within three of its reporting periods: the
rule of the default no-data alarms (15 minutes for the types that report every 5, see
`alarms/defaults.yaml`) with the simulator's periods. Its state is its worst open alarm
("critical", "warning"), "offline" when silent, "ok" otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy.orm import Session

from dothi.alarms import aqi
from dothi.alarms.views import OpenAlarm, open_alarms
from dothi.kpis.air import air_series
from dothi.kpis.area import Area
from dothi.kpis.schemas import Feature, FeatureCollection, SensorProperties, SensorState, point
from dothi.telemetry.facts import (
    EntityFacts,
    entities_of_type,
    entity_names,
    last_seen,
    latest_values,
)

PERIOD_MINUTES: Mapping[str, int] = MappingProxyType(
    {
        "AirQualityObserved": 5,
        "FloodMonitoring": 5,
        "TrafficFlowObserved": 5,
        "Streetlight": 15,
        "WaterQualityObserved": 15,
        "WasteContainer": 30,
    }
)
"""Minutes between two reports of a sensor of each type (others: `DEFAULT_PERIOD`)."""
DEFAULT_PERIOD = 15
MISSED_PERIODS = 3

KEY_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "AirQualityObserved": ("pm25", "pm10"),
        "FloodMonitoring": ("currentLevel", "floodLevelStatus"),
        "TrafficFlowObserved": ("intensity", "averageVehicleSpeed"),
        "Streetlight": ("powerState", "status"),
        "WaterQualityObserved": ("pH", "turbidity"),
        "WasteContainer": ("fillingLevel",),
        "WeatherObserved": ("temperature", "precipitation"),
        "NoiseLevelObserved": ("LAeq",),
    }
)
"""The values a map marker shows per type; air quality stations add their VN_AQI."""
OWN_LAYER = frozenset({"Camera"})
"""Entity types that are not sensors: they report on change and have a layer of their own."""


def is_online(entity_type: str, seen: datetime | None, now: datetime) -> bool:
    """Whether a sensor last heard at `seen` is online at `now`."""
    minutes = PERIOD_MINUTES.get(entity_type, DEFAULT_PERIOD) * MISSED_PERIODS
    return seen is not None and now - seen <= timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Census:
    """The sensors of an area and when each last sent something."""

    sensors: list[EntityFacts]
    seen: dict[str, datetime]

    def online(self, now: datetime) -> int:
        return sum(is_online(s.type, self.seen.get(s.id), now) for s in self.sensors)


def census(session: Session, area: Area) -> Census:
    """Every sensor placed in the area, with its last report."""
    sensors = [s for s in entities_of_type(session, None, area.ids) if s.type not in OWN_LAYER]
    return Census(sensors, last_seen(session, [s.id for s in sensors]))


def _state(
    entity_type: str, seen: datetime | None, now: datetime, severity: str | None
) -> SensorState:
    if not is_online(entity_type, seen, now):
        return "offline"
    return "critical" if severity == "critical" else "warning" if severity else "ok"


def sensor_layer(
    session: Session, area: Area, now: datetime
) -> FeatureCollection[SensorProperties]:
    """The area's sensors as points, coloured by state, with a few latest values."""
    found = census(session, area)
    placed = [s for s in found.sensors if s.lon is not None and s.lat is not None]
    ids = [s.id for s in placed]
    names = entity_names(session, ids)
    wanted = {name for names_ in KEY_VALUES.values() for name in names_}
    latest = latest_values(session, ids, wanted)
    air = air_series(session, area, now, 1, [s for s in placed if s.type == aqi.ENTITY_TYPE])
    severities = _worst_alarms(open_alarms(session, area.ids))
    features: list[Feature[SensorProperties]] = []
    for sensor in placed:
        seen = found.seen.get(sensor.id)
        values = {
            name: latest[sensor.id, name][1]
            for name in KEY_VALUES.get(sensor.type, ())
            if (sensor.id, name) in latest
        }
        if sensor.id in air.stations:
            values[aqi.ATTRIBUTE] = air.stations[sensor.id][-1]
        properties = SensorProperties(
            id=sensor.id,
            type=sensor.type,
            name=names.get(sensor.id, sensor.id),
            ward=area.code_of(sensor.admin_unit_id),
            state=_state(sensor.type, seen, now, severities.get(sensor.id)),
            last_seen=seen,
            values=values,
        )
        features.append(Feature(geometry=point(sensor.lon, sensor.lat), properties=properties))
    return FeatureCollection(features=features)


def _worst_alarms(alarms: list[OpenAlarm]) -> dict[str, str]:
    """The most severe open alarm's severity per entity (the list is critical first)."""
    worst: dict[str, str] = {}
    for alarm in alarms:
        worst.setdefault(alarm.entity_id, alarm.severity)
    return worst
