"""Readings: from an attribute document to validated values.

`split_attributes` takes the attributes of one entity as a device or an NGSI-LD
client sends them (`{attr: value}`, `{attr: {value, observedAt, unitCode}}` or
normalized `{attr: {type: Property, value, …}}`) and separates time series
from the entity's static properties; `store.py` writes the readings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from dothi.errors import InvalidInput
from dothi.telemetry.messages import Reading
from dothi.telemetry.models import TEXT_VALUE
from dothi.telemetry.types import ENTITY_TYPES, AttributeSpec, spec_of

FUTURE_TOLERANCE = timedelta(minutes=10)
"""How far ahead of our clock a device's clock may be before its readings are refused."""
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
"""Older readings are refused: each month written creates a partition on PostgreSQL."""
LARGEST = 1e15
"""No sensor measures beyond this; larger numbers are errors (and overflow sums)."""
RESERVED = frozenset({"id", "type", "@context", "scope", "createdAt", "modifiedAt"})
NAME_LIMIT = 64
NESTING = 32
"""Levels a static attribute's value may nest (JSON allows more than Python's stack)."""


# Reading values ----------------------------------------------------------------------------


def split_attributes(
    entity_id: str,
    entity_type: str,
    attributes: Mapping[str, Any],
    now: datetime,
    received_at: datetime | None = None,
) -> tuple[list[Reading], dict[str, Any]]:
    """The observed readings and the static properties (normalized form) of an attribute document.

    Observed: attributes `types.py` describes, and any other with a numeric value.
    Readings without `observedAt` are dated when their message arrived
    (`received_at`, default `now`). Raises InvalidInput naming the attribute at fault.
    """
    readings: list[Reading] = []
    static: dict[str, Any] = {}
    plain = _plain_numbers(entity_type)
    arrived = received_at or now
    times: dict[str, datetime] = {}  # the attributes of a message usually share one time
    for name, item in attributes.items():
        if name in RESERVED:
            continue
        if not name or len(name) > NAME_LIMIT or "\x00" in name:
            raise InvalidInput(f"Attribute name {name[:80]!r} must have 1–{NAME_LIMIT} characters.")
        if type(item) is dict and "value" in item and item.get("type") != "GeoProperty":
            value, observed_at, unit_code = (
                item["value"],
                item.get("observedAt"),
                item.get("unitCode"),
            )
        else:  # the common shape above, every other one here
            value, observed_at, unit_code = _unpack(item)
        known = plain.get(name)
        # The common case first: a described number within its bounds.
        if known is not None and type(value) in _NUMBERS and known[0] <= value <= known[1]:
            number: float | str = float(value)
            unit = known[2]
        else:
            spec = spec_of(entity_type, name)
            if spec is None and not _is_number(value):
                static[name] = _normalized(_storable(name, item))
                continue
            if value is None:
                continue
            number, unit = _checked(name, spec, value), spec.unit_code if spec else None
        if unit_code is not None:
            unit = _unit(name, unit_code)
        if observed_at is None:
            when = arrived
        elif type(observed_at) is str:
            when = times.get(observed_at) or times.setdefault(
                observed_at, _timestamp(name, observed_at, now)
            )
        else:
            when = _timestamp(name, observed_at, now)
        readings.append(_reading((entity_id, name, when, number, unit)))
    return readings, static


_NUMBERS = frozenset({int, float})  # exact types: a bool is not a reading
_reading = partial(tuple.__new__, Reading)  # Reading(…) without its Python-level __new__


@lru_cache(maxsize=1024)
def _plain_numbers(entity_type: str) -> dict[str, tuple[float, float, str | None]]:
    """For each numeric attribute described for the type: its lowest and highest value, its unit."""
    described = ENTITY_TYPES.get(entity_type)
    return {
        spec.name: (
            -LARGEST if spec.minimum is None else max(-LARGEST, spec.minimum),
            LARGEST if spec.maximum is None else min(LARGEST, spec.maximum),
            spec.unit_code,
        )
        for spec in (described.attributes if described else ())
        if spec.kind == "number"
    }


def _unpack(item: Any) -> tuple[Any, Any, Any]:
    """Value, observedAt and unitCode of an attribute in any of the accepted shapes."""
    if isinstance(item, dict | Mapping) and "value" in item and item.get("type") != "GeoProperty":
        return item["value"], item.get("observedAt"), item.get("unitCode")
    return item, None, None  # a plain value, a relationship, a GeoJSON geometry, a structure


def _normalized(item: Any) -> dict[str, Any]:
    """A static attribute in NGSI-LD normalized form."""
    if isinstance(item, Mapping) and item.get("type") in (
        "Property",
        "GeoProperty",
        "Relationship",
    ):
        return dict(item)
    if isinstance(item, Mapping) and item.get("type") in ("Point", "Polygon", "LineString"):
        return {"type": "GeoProperty", "value": dict(item)}
    return {"type": "Property", "value": item}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _storable(name: str, value: Any, depth: int = 0) -> Any:
    """`value` if both databases can store it as JSON: no NUL in text, only finite numbers,
    at most `NESTING` levels deep."""
    if depth > NESTING:
        raise InvalidInput(f"{name}: the value is nested more than {NESTING} levels deep.")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput(f"{name}: text must not contain a NUL character.")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{name}: numbers must be finite.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST:
        raise InvalidInput(f"{name}: the number is too large.")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _storable(name, key)
            _storable(name, item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(name, item, depth + 1)
    return value


def _checked(name: str, spec: AttributeSpec | None, value: Any) -> float | str:
    """The value as stored, or InvalidInput if it cannot be one of this attribute."""
    if spec is not None and spec.kind == "text":
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, str | int | float) or len(str(value)) > TEXT_VALUE:
            raise InvalidInput(f"{name}: expected a short text value, got {_show(value)}.")
        return str(_storable(name, value))
    if not _is_number(value):
        raise InvalidInput(f"{name}: expected a number, got {_show(value)}.")
    if abs(value) > LARGEST or not math.isfinite(value):
        raise InvalidInput(f"{name}: {_show(value)} is not a plausible measurement.")
    number = float(value)
    if spec is not None and (
        (spec.minimum is not None and number < spec.minimum)
        or (spec.maximum is not None and number > spec.maximum)
    ):
        raise InvalidInput(f"{name}: {number:g} is outside [{spec.minimum}, {spec.maximum}].")
    return number


def _show(value: Any) -> str:
    return repr(value)[:60]


def _timestamp(name: str, value: Any, now: datetime) -> datetime:
    """An ISO 8601 time with its zone, not in the future."""
    utc = _utc(value) if isinstance(value, str) else None
    if utc is None:
        raise InvalidInput(
            f"{name}: observedAt must be an ISO 8601 time with a zone, got {_show(value)}."
        )
    if utc > now + FUTURE_TOLERANCE:
        raise InvalidInput(f"{name}: observedAt {value} is in the future.")
    if utc < EARLIEST:
        raise InvalidInput(f"{name}: observedAt {value} is before {EARLIEST.year}.")
    return utc


@lru_cache(maxsize=65_536)  # a station's attributes share one observedAt: parse it once
def _utc(text: str) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):
        return None


def _unit(name: str, unit_code: Any) -> str | None:
    if unit_code is None:
        return None
    if not isinstance(unit_code, str) or not 1 <= len(unit_code) <= 16:
        raise InvalidInput(f"{name}: unitCode must be a UN/CEFACT code of 1–16 characters.")
    return unit_code
