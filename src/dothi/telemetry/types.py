"""Entity types dothi knows, as data: FIWARE Smart Data Models with their attribute names unchanged.

Adding a sensor type is adding a row. An attribute listed here is observed (a time
series); its unit is the UN/CEFACT code Smart Data Models use, and its bounds are
physical limits: a value outside them is refused as a bad reading, not stored.
Entities of other types, and attributes not listed, are accepted as they come:
NGSI-LD is an open model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

Kind = Literal["number", "text"]


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """An observed attribute: its name, kind, unit and physical bounds."""

    name: str
    kind: Kind = "number"
    unit_code: str | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class EntityType:
    """An entity type and its observed attributes."""

    name: str
    label: str
    attributes: tuple[AttributeSpec, ...]


def _concentration(name: str) -> AttributeSpec:
    return AttributeSpec(name, unit_code="GQ", minimum=0)  # GQ: microgram per cubic metre


def _ratio(name: str) -> AttributeSpec:
    return AttributeSpec(name, minimum=0.0, maximum=1.0)  # a fraction: 0.42, not 42 %


TEMPERATURE = AttributeSpec("temperature", unit_code="CEL", minimum=-60, maximum=100)

_TYPES = (
    EntityType(
        "AirQualityObserved",
        "Air quality station",
        (
            *(_concentration(name) for name in ("pm25", "pm10", "no2", "so2", "o3")),
            AttributeSpec("co", unit_code="GP", minimum=0),  # GP: milligram per cubic metre
            TEMPERATURE,
            _ratio("relativeHumidity"),
            AttributeSpec("airQualityIndex", minimum=0, maximum=1000),
        ),
    ),
    EntityType(
        "WaterQualityObserved",
        "Water quality station",
        (
            TEMPERATURE,
            AttributeSpec("pH", minimum=0, maximum=14),
            AttributeSpec("conductivity", unit_code="D10", minimum=0),  # siemens per metre
            AttributeSpec("turbidity", minimum=0),
            AttributeSpec("O2", unit_code="M1", minimum=0),  # milligram per litre
            AttributeSpec("tss", unit_code="M1", minimum=0),
            AttributeSpec("NH4", unit_code="M1", minimum=0),
            AttributeSpec("COD", unit_code="M1", minimum=0),
        ),
    ),
    EntityType(
        "FloodMonitoring",
        "Flood sensor",
        (
            AttributeSpec("currentLevel", unit_code="MTR", minimum=-5, maximum=20),
            AttributeSpec("referenceLevel", unit_code="MTR"),
            AttributeSpec("measuredDistance", unit_code="MTR", minimum=0),
            AttributeSpec("floodLevelStatus", kind="text"),
        ),
    ),
    EntityType(
        "WeatherObserved",
        "Weather station",
        (
            AttributeSpec("precipitation", unit_code="MMT", minimum=0, maximum=500),  # mm (hour)
            TEMPERATURE,
            _ratio("relativeHumidity"),
            AttributeSpec("windSpeed", unit_code="MTS", minimum=0, maximum=100),  # m/s
            AttributeSpec("atmosphericPressure", unit_code="A97", minimum=800, maximum=1100),
        ),
    ),
    EntityType(
        "Streetlight",
        "Streetlight",
        (
            AttributeSpec("powerState", kind="text"),
            AttributeSpec("status", kind="text"),
            _ratio("illuminanceLevel"),
        ),
    ),
    EntityType(
        "WasteContainer",
        "Waste container",
        (
            _ratio("fillingLevel"),
            AttributeSpec("status", kind="text"),
            TEMPERATURE,
            AttributeSpec("cargoWeight", unit_code="KGM", minimum=0),
        ),
    ),
    EntityType(
        "TrafficFlowObserved",
        "Traffic counter",
        (
            AttributeSpec("intensity", minimum=0),
            AttributeSpec("averageVehicleSpeed", unit_code="KMH", minimum=0, maximum=300),
            _ratio("occupancy"),
            AttributeSpec("congested", kind="text"),
        ),
    ),
    EntityType(
        "NoiseLevelObserved",
        "Noise sensor",
        tuple(
            AttributeSpec(name, unit_code="2N", minimum=0, maximum=200)
            for name in ("LAeq", "LAmax", "LAS")
        ),
    ),
    EntityType(
        "Camera",
        "Camera",
        (
            AttributeSpec("status", kind="text"),  # online, degraded, offline
            AttributeSpec("peopleCount", minimum=0),  # crossings since the last report
            AttributeSpec("vehicleCount", minimum=0),
            AttributeSpec("crowding", minimum=0),  # people in a watched zone
            AttributeSpec("eventType", kind="text"),  # the last analytics event
        ),
    ),
    EntityType(
        "Device",
        "Device",
        (
            _ratio("batteryLevel"),
            AttributeSpec("deviceState", kind="text"),
            AttributeSpec("rssi", unit_code="2N"),
        ),
    ),
)

ENTITY_TYPES: Mapping[str, EntityType] = MappingProxyType({t.name: t for t in _TYPES})
"""The Smart Data Models types dothi describes, by name."""

ENTITY_ID = re.compile(
    r"^urn:ngsi-ld:(?P<type>[A-Za-z][A-Za-z0-9_]{0,63}):(?P<local>[^\s/?#\x00]{1,150})$"
)
"""`urn:ngsi-ld:<Type>:<local id>`: the type is in the id, as FIWARE does it."""


@lru_cache(maxsize=65_536)  # every message is checked: a district has thousands of devices
def type_of(entity_id: str) -> str | None:
    """The type named in an entity id, or None if the id is not `urn:ngsi-ld:<Type>:<id>`."""
    match = ENTITY_ID.match(entity_id)
    return match["type"] if match else None


_SPECS = {(t.name, spec.name): spec for t in _TYPES for spec in t.attributes}


def spec_of(entity_type: str, attribute: str) -> AttributeSpec | None:
    """How an attribute of a type is described, if dothi knows it."""
    return _SPECS.get((entity_type, attribute))
