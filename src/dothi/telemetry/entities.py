"""Context entities: create, read, query, change and delete them, one at a time or in batches.

Every write names its actor: the integration key's role, entity types and wards
are checked (`access.check_write`) against the entity's ward, which is located
from its `location` point on today's map. Observed attributes go to the time
series (`store.store_readings`), the others to the entity's static properties.
Every change is offered to the subscriptions (`subscriptions.enqueue_for_changes`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shapely.geometry import shape
from sqlalchemy import ColumnElement, Select, delete, false, func, or_, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal, is_root_path
from dothi.core.clock import local_date
from dothi.errors import Conflict, DothiError, InvalidInput, NotFound
from dothi.places.lookup import locate
from dothi.places.service import unit_ids_by_code, units_within
from dothi.telemetry.access import check_write
from dothi.telemetry.models import Entity, EntityAttribute, HourlyRollup, Observation
from dothi.telemetry.placing import entity_path
from dothi.telemetry.query import Near, Query
from dothi.telemetry.readings import split_attributes
from dothi.telemetry.representation import Found, load
from dothi.telemetry.store import store_readings
from dothi.telemetry.subscriptions import enqueue_for_changes

MAX_LIMIT = 1000
MAX_BATCH = 1000
SCAN_LIMIT = 100_000
"""Most candidates a query filtered in Python (q, idPattern, distance) looks at."""

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s/?#]{1,250}$")
"""A URI without /, ? or #, so that it is one segment of an entity's URL."""
_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/#-]{0,63}$")

Mode = Literal["append", "keep", "update", "replace"]
"""Attribute changes: append (overwrite), keep (noOverwrite), update (only existing), replace."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes, when, and on which map their entities are located."""

    principal: Principal
    now: datetime
    zone: str = "Asia/Ho_Chi_Minh"
    root_code: str | None = None


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """Which entities to list, and which page of them."""

    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    id_pattern: re.Pattern[str] | None = None
    q: Query | None = None
    near: Near | None = None
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class BatchResult:
    """What a batch operation did: ids that succeeded (those created apart) and failures."""

    success: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    errors: list[tuple[str, DothiError]] = field(default_factory=list)


# Reading ------------------------------------------------------------------------------------


def visible(principal: Principal) -> ColumnElement[bool] | None:
    """The SQL condition on entities a principal sees; None when they see them all.

    Anonymous callers reach reads only when the deployment publishes context data,
    and then see every entity.
    """
    if not principal.is_authenticated:
        return None
    paths = principal.scope_paths
    if not paths:
        return false()
    inside = Entity.admin_unit_id.in_(units_within(paths))
    if any(is_root_path(path) for path in paths):
        return or_(inside, Entity.admin_unit_id.is_(None))
    return inside


def get_entity(session: Session, principal: Principal, entity_id: str) -> Found:
    """An entity the principal sees, with its observed attributes; NotFound otherwise."""
    query = select(Entity).where(Entity.id == entity_id)
    seen = visible(principal)
    entity = session.scalars(query if seen is None else query.where(seen)).one_or_none()
    if entity is None:
        raise NotFound(f"No entity {entity_id}.")
    return load(session, [entity])[0]


def query_entities(
    session: Session, principal: Principal, query: EntityQuery
) -> tuple[list[Found], int]:
    """A page of the entities matching `query` that the principal sees, and how many match."""
    statement = _selection(principal, query)
    if query.q is None and query.id_pattern is None and query.near is None:
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        page = statement.order_by(Entity.id).limit(query.limit).offset(query.offset)
        return load(session, list(session.scalars(page))), total
    candidates = list(session.scalars(statement.order_by(Entity.id).limit(SCAN_LIMIT)))
    if query.id_pattern is not None:
        candidates = [e for e in candidates if query.id_pattern.search(e.id)]
    if query.near is not None:
        candidates = [e for e in candidates if query.near.holds(e.lon, e.lat)]
    found = load(session, candidates)
    if query.q is not None:
        condition = query.q
        found = [item for item in found if condition.matches(item.normalized())]
    return found[query.offset : query.offset + query.limit], len(found)


def _selection(principal: Principal, query: EntityQuery) -> Select[Entity]:
    statement = select(Entity)
    seen = visible(principal)
    if seen is not None:
        statement = statement.where(seen)
    if query.types:
        statement = statement.where(Entity.type.in_(query.types))
    if query.ids:
        statement = statement.where(Entity.id.in_(query.ids))
    box = query.near.box() if query.near is not None else None
    if box is not None:
        west, south, east, north = box
        statement = statement.where(
            Entity.lon.between(west, east), Entity.lat.between(south, north)
        )
    return statement


# Writing ------------------------------------------------------------------------------------


def create_entity(session: Session, actor: Actor, document: Any) -> Entity:
    """Create an entity from an NGSI-LD document; Conflict if its id is taken."""
    entity, changed = _create(session, actor, document)
    enqueue_for_changes(session, {entity.id: changed}, actor.now)
    return entity


def change_attributes(
    session: Session, actor: Actor, entity_id: str, attributes: Any, mode: Mode
) -> list[str]:
    """Append (`append`, `keep`) or update (`update`) attributes; returns those not changed."""
    entity = _writable(session, actor, entity_id)
    changed, skipped = _change(session, actor, entity, _attributes(attributes), mode)
    enqueue_for_changes(session, {entity.id: changed}, actor.now)
    return skipped


def delete_entity(session: Session, actor: Actor, entity_id: str) -> None:
    """Delete an entity with its time series."""
    _delete(session, _writable(session, actor, entity_id))


def run_batch(
    session: Session, actor: Actor, operation: str, items: Sequence[Any], mode: Mode = "append"
) -> BatchResult:
    """A batch operation (create, upsert, update, delete), entity by entity.

    Each entity is done in a savepoint: one refused entity is reported in the
    result and does not undo the others. `mode` is how existing entities change:
    `replace` or `append` for upsert, `append` or `keep` (noOverwrite) for update.
    """
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"A batch holds at most {MAX_BATCH} entities.")
    result = BatchResult()
    changes: dict[str, set[str]] = {}
    for item in items:
        label = _label(item)
        try:
            with session.begin_nested():
                entity_id, changed, created = _batch_one(session, actor, operation, item, mode)
        except DothiError as error:
            result.errors.append((label, error))
            continue
        result.success.append(entity_id)
        if created:
            result.created.append(entity_id)
        if changed:
            changes.setdefault(entity_id, set()).update(changed)
    enqueue_for_changes(session, changes, actor.now)
    return result


def _batch_one(
    session: Session, actor: Actor, operation: str, item: Any, mode: Mode
) -> tuple[str, set[str], bool]:
    """One entity of a batch: its id, the attributes changed, whether it was created."""
    if operation == "delete":
        if not isinstance(item, str):
            raise InvalidInput("A batch delete is a list of entity ids.")
        _delete(session, _writable(session, actor, item))
        return item, set(), False
    entity_id, entity_type = _identity(item)
    existing = session.get(Entity, entity_id)
    if operation == "create" or (operation == "upsert" and existing is None):
        entity, changed = _create(session, actor, item)
        return entity.id, changed, True
    if existing is None:
        raise NotFound(f"No entity {entity_id}.")
    if existing.type != entity_type:
        raise InvalidInput(f"{entity_id} is of type {existing.type}, not {entity_type}.")
    entity = _writable(session, actor, entity_id)
    changed, _ = _change(session, actor, entity, _attributes(item), mode)
    return entity_id, changed, False


def _label(item: Any) -> str:
    if isinstance(item, str):
        return item[:256]
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        return str(item["id"])[:256]
    return ""


def _identity(document: Any) -> tuple[str, str]:
    """The id and type of an entity document, checked."""
    if not isinstance(document, Mapping):
        raise InvalidInput("An entity is a JSON object with id and type.")
    entity_id, entity_type = document.get("id"), document.get("type")
    if not isinstance(entity_id, str) or not _URI.match(entity_id):
        raise InvalidInput("id must be a URI, e.g. urn:ngsi-ld:AirQualityObserved:station-1.")
    if not isinstance(entity_type, str) or not _TYPE.match(entity_type):
        raise InvalidInput("type must be a name of 1–64 letters, digits or _.")
    return entity_id, entity_type


def _attributes(document: Any) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise InvalidInput("Attributes are a JSON object: name → value or Property.")
    return document


def _create(session: Session, actor: Actor, document: Any) -> tuple[Entity, set[str]]:
    entity_id, entity_type = _identity(document)
    readings, static = split_attributes(entity_id, entity_type, document, actor.now)
    place = _place(session, actor, static.get("location"))
    check_write(actor.principal, entity_type, place[1])
    if session.get(Entity, entity_id) is not None:
        raise Conflict(f"Entity {entity_id} already exists.")
    entity = Entity(
        id=entity_id,
        type=entity_type,
        properties=static,
        created_by=actor.principal.username,
        created_at=actor.now,
        modified_at=actor.now,
    )
    _set_place(entity, static.get("location"), place)
    session.add(entity)
    session.flush()
    store_readings(session, readings)
    return entity, set(static) | {r.attribute for r in readings}


def _writable(session: Session, actor: Actor, entity_id: str) -> Entity:
    """An entity the actor may change (NotFound when they do not see it)."""
    entity = session.get(Entity, entity_id)
    path = entity_path(session, entity) if entity is not None else None
    if entity is None or not actor.principal.sees(path):
        raise NotFound(f"No entity {entity_id}.")
    check_write(actor.principal, entity.type, path)
    return entity


def _change(
    session: Session, actor: Actor, entity: Entity, attributes: Mapping[str, Any], mode: Mode
) -> tuple[set[str], list[str]]:
    """Change an entity's attributes; returns the names changed and those left alone."""
    readings, static = split_attributes(entity.id, entity.type, attributes, actor.now)
    observed = set(
        session.scalars(select(EntityAttribute.name).where(EntityAttribute.entity_id == entity.id))
    )
    existing = observed | set(entity.properties)
    skipped: list[str] = []
    if mode in ("keep", "update"):
        # keep: what exists is not overwritten; update: what does not exist is not added.
        def refused(name: str) -> bool:
            return (name in existing) == (mode == "keep")

        skipped = sorted(
            {n for n in static if refused(n)}
            | {r.attribute for r in readings if refused(r.attribute)}
        )
        static = {n: v for n, v in static.items() if n not in skipped}
        readings = [r for r in readings if r.attribute not in skipped]
    observed_now = {r.attribute for r in readings}
    base = {} if mode == "replace" else dict(entity.properties)
    properties = {n: v for n, v in {**base, **static}.items() if n not in observed_now}
    if properties.get("location") != entity.properties.get("location"):
        place = _place(session, actor, properties.get("location"))
        check_write(actor.principal, entity.type, place[1])
        _set_place(entity, properties.get("location"), place)
    entity.properties = properties
    entity.modified_at = actor.now
    session.flush()
    store_readings(session, readings)
    return set(static) | observed_now, skipped


def _delete(session: Session, entity: Entity) -> None:
    series = select(EntityAttribute.id).where(EntityAttribute.entity_id == entity.id)
    session.execute(delete(Observation).where(Observation.attribute_id.in_(series)))
    session.execute(delete(HourlyRollup).where(HourlyRollup.attribute_id.in_(series)))
    session.execute(delete(EntityAttribute).where(EntityAttribute.entity_id == entity.id))
    session.delete(entity)
    session.flush()


# Places -------------------------------------------------------------------------------------


def _place(session: Session, actor: Actor, location: Any) -> tuple[uuid.UUID | None, str | None]:
    point = _point(location)
    if point is None:
        return None, None
    day = local_date(actor.now, actor.zone)
    root = (
        unit_ids_by_code(session, [actor.root_code], day).get(actor.root_code)
        if actor.root_code
        else None
    )
    unit = locate(session, point[0], point[1], day, root=root)
    return (unit.id, unit.path) if unit is not None else (None, None)


def _set_place(entity: Entity, location: Any, place: tuple[uuid.UUID | None, str | None]) -> None:
    point = _point(location)
    entity.admin_unit_id = place[0]
    entity.lon, entity.lat = point if point is not None else (None, None)


def _point(location: Any) -> tuple[float, float] | None:
    """The (lon, lat) of a location GeoProperty: the point itself, or a shape's centroid."""
    if location is None:
        return None
    geometry = location.get("value") if isinstance(location, Mapping) else None
    try:
        centre = shape(geometry).centroid
        lon, lat = float(centre.x), float(centre.y)
    except Exception:  # shapely refuses bad GeoJSON with errors of several kinds
        raise InvalidInput(
            "location must be a GeoJSON geometry (Point, LineString, Polygon)."
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # also refuses NaN
        raise InvalidInput("location is outside longitude [-180, 180] / latitude [-90, 90].")
    return lon, lat
