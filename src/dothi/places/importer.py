"""Import administrative units from a GeoJSON FeatureCollection.

Each feature is one unit: its properties carry `code, name, level, parent` (the parent's
code), `valid_from` and optionally `name_en, valid_to, population, population_estimated,
area_km2`; any other property, and the collection's `attribution` and `license`, go into
the unit's `attributes`. Re-importing a unit with the same (code, valid_from) updates it in
place, keeping its id. The whole file is checked before anything is written, and a failure
while writing rolls the import back to a savepoint: nothing is half-written.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from dothi.core.documents import ImportResult, problems, read_json_object
from dothi.errors import DothiError, InvalidInput
from dothi.places.schemas import UnitIn
from dothi.places.service import create_unit, find_unit, update_unit

Progress = Callable[[int, int], None]
"""Called with (units done, units in the file), first with 0 done."""

SHARED_PROPERTIES = ("attribution", "license")
_OWN_FIELDS = frozenset(UnitIn.model_fields) - {"boundary", "attributes"}


def _unit(feature: Any, number: int, shared: Mapping[str, Any]) -> UnitIn:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InvalidInput(f"feature {number} is not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    own = {key: value for key, value in properties.items() if key in _OWN_FIELDS}
    extra = {key: value for key, value in properties.items() if key not in _OWN_FIELDS}
    try:
        return UnitIn.model_validate(
            {**own, "boundary": feature.get("geometry"), "attributes": {**shared, **extra}}
        )
    except ValidationError as exc:
        label = properties.get("name") or properties.get("code") or "unnamed"
        raise InvalidInput(f"feature {number} ({label}): {problems(exc, 'feature')}") from exc


def parse_collection(source: Path | str | Mapping[str, Any]) -> list[UnitIn]:
    """The units of a FeatureCollection (a file or a parsed object); InvalidInput if bad."""
    collection = read_json_object(source, "a GeoJSON FeatureCollection")
    features = collection.get("features")
    if collection.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise InvalidInput("expected a GeoJSON FeatureCollection with a list of features")
    shared = {key: collection[key] for key in SHARED_PROPERTIES if key in collection}
    units = [_unit(feature, number, shared) for number, feature in enumerate(features, 1)]
    keys = Counter((unit.code, unit.valid_from) for unit in units)
    repeated = [f"{code} from {day.isoformat()}" for (code, day), n in keys.items() if n > 1]
    if repeated:
        raise InvalidInput(f"the file has more than one unit keyed {', '.join(repeated)}")
    return _parents_first(units)


def _parents_first(units: list[UnitIn]) -> list[UnitIn]:
    """Order units so that every unit whose parent code is in the file comes after it."""
    pending = Counter(unit.code for unit in units)
    waiting: defaultdict[str, list[UnitIn]] = defaultdict(list)
    ready: deque[UnitIn] = deque()
    for unit in units:
        if unit.parent is not None and unit.parent in pending:
            waiting[unit.parent].append(unit)
        else:
            ready.append(unit)
    ordered: list[UnitIn] = []
    while ready:
        unit = ready.popleft()
        ordered.append(unit)
        pending[unit.code] -= 1
        if pending[unit.code] == 0:
            ready.extend(waiting.pop(unit.code, []))
    if len(ordered) < len(units):
        raise InvalidInput(f"parent codes form a cycle among {', '.join(sorted(waiting))}")
    return ordered


def import_units(
    session: Session, units: list[UnitIn], *, progress: Progress | None = None
) -> ImportResult:
    """Create or update units given parents first (as `parse_collection` orders them)."""
    created = updated = 0
    if progress:
        progress(0, len(units))
    with session.begin_nested():
        for done, data in enumerate(units, 1):
            try:
                existing = find_unit(session, data.code, data.valid_from)
                if existing is None:
                    create_unit(session, data)
                    created += 1
                else:
                    update_unit(session, existing, data)
                    updated += 1
            except DothiError as exc:
                raise type(exc)(f"unit {data.code} ({data.name}): {exc.message}") from exc
            if progress:
                progress(done, len(units))
    return ImportResult(created=created, updated=updated)


def import_geojson(
    session: Session,
    source: Path | str | Mapping[str, Any],
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Check a FeatureCollection, then create or update its units (all or nothing)."""
    return import_units(session, parse_collection(source), progress=progress)
