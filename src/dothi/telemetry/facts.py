"""What other domains (alarms, dashboards) read of telemetry: entities and their values.

Set-based on purpose: the alarm engine asks once per ingest batch, for every entity
the batch changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.core.clock import as_utc
from dothi.telemetry.models import Entity, EntityAttribute, Observation
from dothi.telemetry.rollups import HOUR, Hour, hourly_many

Value = float | str | None


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """An entity's identity and place."""

    id: str
    type: str
    admin_unit_id: uuid.UUID | None
    lon: float | None
    lat: float | None


_FACTS = select(Entity.id, Entity.type, Entity.admin_unit_id, Entity.lon, Entity.lat)


def entity_facts(session: Session, ids: Collection[str]) -> dict[str, EntityFacts]:
    """The facts of the entities that exist among `ids`."""
    rows = session.execute(_FACTS.where(Entity.id.in_(ids))).all()
    return {row.id: EntityFacts(*row) for row in rows}


def entities_of_type(
    session: Session, entity_type: str | None, admin_unit_ids: Collection[uuid.UUID] | None
) -> list[EntityFacts]:
    """The entities of a type (None: of every type), in these wards (None: anywhere)."""
    query = _FACTS if entity_type is None else _FACTS.where(Entity.type == entity_type)
    if admin_unit_ids is not None:
        query = query.where(Entity.admin_unit_id.in_(admin_unit_ids))
    return [EntityFacts(*row) for row in session.execute(query.order_by(Entity.id))]


def latest_values(
    session: Session, entity_ids: Collection[str], attributes: Collection[str]
) -> dict[tuple[str, str], tuple[datetime, Value]]:
    """The latest value of each of these attributes of these entities, with its time."""
    a = EntityAttribute
    rows = session.execute(
        select(a.entity_id, a.name, a.observed_at, a.number, a.text).where(
            a.entity_id.in_(entity_ids), a.name.in_(attributes), a.observed_at.is_not(None)
        )
    )
    return {
        (entity, name): (as_utc(at), number if number is not None else text)
        for entity, name, at, number, text in rows
        if at is not None  # the query keeps only those; the types cannot know
    }


def recent_values(
    session: Session, entity_id: str, attribute: str, since: datetime
) -> list[tuple[datetime, Value]]:
    """The values of one attribute observed at or after `since`, oldest first."""
    o, a = Observation, EntityAttribute
    series = select(a.id).where(a.entity_id == entity_id, a.name == attribute).scalar_subquery()
    rows = session.execute(
        select(o.observed_at, o.number, o.text)
        .where(o.attribute_id == series, o.observed_at >= since)
        .order_by(o.observed_at)
    )
    return [(as_utc(at), number if number is not None else text) for at, number, text in rows]


def last_seen(
    session: Session, entity_ids: Collection[str], attribute: str | None = None
) -> dict[str, datetime]:
    """When each entity (that ever sent anything) last sent a value (of `attribute`, if given)."""
    a = EntityAttribute
    query = select(a.entity_id, func.max(a.observed_at)).where(
        a.entity_id.in_(entity_ids), a.observed_at.is_not(None)
    )
    if attribute is not None:
        query = query.where(a.name == attribute)
    rows = session.execute(query.group_by(a.entity_id))
    return {entity: as_utc(at) for entity, at in rows if at is not None}


def entity_names(session: Session, ids: Collection[str]) -> dict[str, str]:
    """The `name` property of each of these entities that has one."""
    rows = session.execute(select(Entity.id, Entity.properties).where(Entity.id.in_(ids)))
    names = {entity: (properties or {}).get("name") for entity, properties in rows}
    return {
        entity: str(name["value"] if isinstance(name, dict) else name)
        for entity, name in names.items()
        if name is not None and (not isinstance(name, dict) or name.get("value") is not None)
    }


def hour_span(end: datetime, hours: int) -> list[datetime]:
    """The starts of the `hours` UTC hours up to the one holding `end`, oldest first."""
    last = as_utc(end).replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=hours - 1 - i) for i in range(hours)]


def hourly_means(
    session: Session,
    entity_ids: Collection[str],
    attributes: Collection[str],
    end: datetime,
    hours: int,
) -> dict[str, dict[str, list[float | None]]]:
    """Per entity and attribute: its mean in each of the `hours` UTC hours up to the one
    holding `end`, oldest first (None: an hour without data). From the hourly rollups."""
    return _hourly(session, entity_ids, attributes, hour_span(end, hours), _mean)


def hourly_maxima(
    session: Session,
    entity_ids: Collection[str],
    attributes: Collection[str],
    end: datetime,
    hours: int,
) -> dict[str, dict[str, list[float | None]]]:
    """`hourly_means`, with each hour's highest value instead of its mean (flood peaks)."""
    return _hourly(session, entity_ids, attributes, hour_span(end, hours), _maximum)


def _mean(hour: Hour) -> float:
    return hour.total / hour.count


def _maximum(hour: Hour) -> float:
    return hour.maximum


def _hourly(
    session: Session,
    entity_ids: Collection[str],
    attributes: Collection[str],
    span: list[datetime],
    measure: Callable[[Hour], float],
) -> dict[str, dict[str, list[float | None]]]:
    a = EntityAttribute
    series = session.execute(
        select(a.id, a.entity_id, a.name).where(a.entity_id.in_(entity_ids), a.name.in_(attributes))
    ).all()
    found = hourly_many(session, [row.id for row in series], span[0], span[-1] + HOUR)
    values: dict[str, dict[str, list[float | None]]] = {}
    for series_id, entity_id, name in series:
        held = {h.hour: measure(h) for h in found.get(series_id, [])}
        values.setdefault(entity_id, {})[name] = [held.get(hour) for hour in span]
    return values
