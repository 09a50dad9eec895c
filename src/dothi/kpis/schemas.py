"""What the operations dashboard reads, as JSON: indicators, GeoJSON layers, charts, search.

Times are UTC (ISO 8601 with `Z`); answers that count by local time say their `zone`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

P = TypeVar("P", bound=BaseModel)
SensorState = Literal["ok", "warning", "critical", "offline"]


class Point(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class Feature(BaseModel, Generic[P]):
    type: Literal["Feature"] = "Feature"
    geometry: Point | dict[str, Any] | None
    properties: P


class FeatureCollection(BaseModel, Generic[P]):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature[P]]


def point(lon: float | None, lat: float | None) -> Point | None:
    """A GeoJSON point, or None for a thing without a place."""
    return None if lon is None or lat is None else Point(coordinates=(lon, lat))


# Overview -----------------------------------------------------------------------------------


class Named(BaseModel):
    code: str
    name: str


class AlarmTiles(BaseModel):
    critical: int
    warning: int
    info: int
    unacknowledged: int


class PeriodOut(BaseModel):
    start: date
    end: date


class ReportTiles(BaseModel):
    open: int
    overdue: int
    on_time_rate: float | None
    period: PeriodOut


class SensorTiles(BaseModel):
    total: int
    online: int
    online_rate: float | None


class WardAqi(Named):
    aqi: int


class AqiTiles(BaseModel):
    now: int | None
    worst_ward: WardAqi | None


class Overview(BaseModel):
    at: datetime
    zone: str
    area: Named
    alarms: AlarmTiles
    reports: ReportTiles
    sensors: SensorTiles
    aqi: AqiTiles


class WardProperties(Named):
    open_alarms: int
    critical_alarms: int
    open_reports: int
    overdue_reports: int
    aqi: int | None


# Layers -------------------------------------------------------------------------------------


class SensorProperties(BaseModel):
    id: str
    type: str
    name: str
    ward: str | None
    state: SensorState
    last_seen: datetime | None
    values: dict[str, int | float | str | None]


class AlarmProperties(BaseModel):
    id: uuid.UUID
    severity: str
    state: str
    rule: str
    rule_name: str
    entity: str
    ward: str | None
    raised_at: datetime
    value: float | None


class CameraProperties(BaseModel):
    code: str
    name: str
    ward: str | None
    health: str
    purposes: list[str]
    heading: float
    has_snapshot: bool


class IncidentProperties(BaseModel):
    id: uuid.UUID
    title: str
    type: str
    type_label: str
    priority: str
    status: str
    status_label: str
    ward: str | None
    opened_at: datetime
    late_steps: int


class ReportProperties(BaseModel):
    code: str
    category: str
    category_name: str
    state: str
    state_label: str
    overdue: bool
    submitted_at: datetime
    due_at: datetime | None


# Charts and queues --------------------------------------------------------------------------


class AqiSeries(BaseModel):
    ward: str
    name: str
    points: list[tuple[datetime, int | None]]


class AqiChart(BaseModel):
    zone: str
    series: list[AqiSeries]


class FloodSeries(BaseModel):
    entity: str
    name: str
    ward: str | None
    points: list[tuple[datetime, float | None]]


class FloodChart(BaseModel):
    zone: str
    series: list[FloodSeries]


class CategorySeries(BaseModel):
    category: str
    name: str
    counts: list[int]


class ReportsChart(BaseModel):
    zone: str
    days: list[date]
    series: list[CategorySeries]


class UnitQueue(BaseModel):
    unit: str
    name: str
    open: int
    overdue: int


class AlarmItem(AlarmProperties):
    lon: float | None
    lat: float | None


class Queues(BaseModel):
    units: list[UnitQueue]
    top_alarms: list[AlarmItem]


# Search -------------------------------------------------------------------------------------


class SearchResult(BaseModel):
    kind: Literal["ward", "street", "entity", "report"]
    label: str
    detail: str
    url: str
    lon: float | None
    lat: float | None


class SearchResults(BaseModel):
    results: list[SearchResult]
