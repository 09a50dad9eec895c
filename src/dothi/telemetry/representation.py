"""Entities as NGSI-LD shows them: normalized (Property, GeoProperty, Relationship) or keyValues.

An entity's static attributes are stored in normalized form; its observed
attributes come from their latest values, with `observedAt` and `unitCode`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.core.clock import as_utc
from dothi.telemetry.models import Entity, EntityAttribute

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"


@dataclass(frozen=True, slots=True)
class Found:
    """An entity and its observed attributes."""

    entity: Entity
    attributes: Sequence[EntityAttribute]

    def normalized(self, attrs: Collection[str] | None = None) -> dict[str, Any]:
        """The entity in normalized form, only `attrs` (besides id and type) if given."""
        document: dict[str, Any] = {"id": self.entity.id, "type": self.entity.type}
        document.update(self.entity.properties)
        for attribute in self.attributes:
            if attribute.observed_at is not None:
                document[attribute.name] = observed(attribute)
        if attrs is None:
            return document
        return {k: v for k, v in document.items() if k in ("id", "type") or k in attrs}

    def key_values(self, attrs: Collection[str] | None = None) -> dict[str, Any]:
        """The entity in keyValues (simplified) form."""
        return simplified(self.normalized(attrs))


def observed(attribute: EntityAttribute) -> dict[str, Any]:
    """The latest value of an observed attribute as an NGSI-LD Property."""
    value: Any = attribute.number if attribute.number is not None else attribute.text
    prop: dict[str, Any] = {"type": "Property", "value": value}
    if attribute.observed_at is not None:
        prop["observedAt"] = iso(attribute.observed_at)
    if attribute.unit_code:
        prop["unitCode"] = attribute.unit_code
    return prop


def simplified(document: Mapping[str, Any]) -> dict[str, Any]:
    """keyValues: each attribute reduced to its value (a relationship to its object)."""
    result: dict[str, Any] = {}
    for name, item in document.items():
        if isinstance(item, Mapping) and item.get("type") == "Relationship":
            result[name] = item.get("object")
        elif isinstance(item, Mapping) and item.get("type") in ("Property", "GeoProperty"):
            result[name] = item.get("value")
        else:
            result[name] = item
    return result


def iso(moment: datetime) -> str:
    """An NGSI-LD DateTime: UTC, `Z`, milliseconds when there are any."""
    utc = as_utc(moment).astimezone(UTC)
    text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def attributes_of(session: Session, ids: Iterable[str]) -> dict[str, list[EntityAttribute]]:
    """The observed attributes of each entity, by entity id."""
    wanted = list(ids)
    found: dict[str, list[EntityAttribute]] = {entity_id: [] for entity_id in wanted}
    for start in range(0, len(wanted), 500):  # keep the IN list small
        chunk = wanted[start : start + 500]
        query = select(EntityAttribute).where(EntityAttribute.entity_id.in_(chunk))
        for attribute in session.scalars(query.order_by(EntityAttribute.name)):
            found[attribute.entity_id].append(attribute)
    return found


def load(session: Session, entities: Sequence[Entity]) -> list[Found]:
    """Each entity with its observed attributes, in the given order."""
    attributes = attributes_of(session, (entity.id for entity in entities))
    return [Found(entity, attributes[entity.id]) for entity in entities]
