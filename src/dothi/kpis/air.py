"""VN_AQI of an area: per station and hour, per ward (its worst station) and overall.

A ward's index is its worst station's, and the area's "now" is its worst ward's: the
figure a resident of the most polluted ward lives with (QĐ 1459 publishes per station;
a mean would hide a bad ward behind clean ones). Hourly means come from the rollups.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dothi.alarms import aqi
from dothi.kpis.area import Area
from dothi.telemetry.facts import EntityFacts, entities_of_type, hour_span, hourly_means


@dataclass(frozen=True, slots=True)
class AirSeries:
    """Hourly VN_AQI (None: too little data) of each station and of each ward."""

    hours: list[datetime]
    stations: dict[str, list[int | None]]
    wards: dict[uuid.UUID, list[int | None]]

    def latest(self, ward_id: uuid.UUID) -> int | None:
        """A ward's index in the last hour."""
        return self.wards.get(ward_id, [None])[-1]


def stations(session: Session, area: Area) -> list[EntityFacts]:
    """The air quality stations of the area."""
    return entities_of_type(session, aqi.ENTITY_TYPE, area.ids)


def air_series(
    session: Session, area: Area, end: datetime, hours: int, found: list[EntityFacts] | None = None
) -> AirSeries:
    """VN_AQI of every hour up to the one holding `end`; each takes the NowCast of the 12
    hours before it, so `hours + 11` hours of means are read."""
    found = stations(session, area) if found is None else found
    means = hourly_means(
        session, [s.id for s in found], aqi.POLLUTANTS, end, hours + aqi.NOWCAST_HOURS - 1
    )
    per_station: dict[str, list[int | None]] = {}
    for station in found:
        held = means.get(station.id, {})
        per_station[station.id] = [
            _index({p: values[i : i + aqi.NOWCAST_HOURS] for p, values in held.items()})
            for i in range(hours)
        ]
    per_ward: dict[uuid.UUID, list[int | None]] = {}
    for station in found:
        if station.admin_unit_id is not None:
            known = per_ward.get(station.admin_unit_id, [None] * hours)
            per_ward[station.admin_unit_id] = [
                worst((a, b)) for a, b in zip(known, per_station[station.id], strict=True)
            ]
    return AirSeries(hour_span(end, hours), per_station, per_ward)


def _index(hourly: dict[str, list[float | None]]) -> int | None:
    found = aqi.vn_aqi(hourly)
    return None if found is None else found.value


def worst(values: Iterable[int | None]) -> int | None:
    """The highest index among those known (None: none known)."""
    return max((v for v in values if v is not None), default=None)
