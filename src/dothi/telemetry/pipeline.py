"""The ingest pipeline: raw messages in, observations stored, nothing dropped silently.

Every transport (MQTT worker, bulk HTTP, the in-process simulator) hands its
messages to `store_batch` inside one unit of work: each message is parsed,
its entity resolved (created only when the key may provision), the key's rights
checked, and its readings validated; a message that fails any step goes whole
to the dead letters with the reason, and the others are stored. `Pipeline`
wraps it in a committed transaction and publishes one bus event per batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.core.clock import Clock, local_date
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import DothiError
from dothi.telemetry.access import check_provision, check_write
from dothi.telemetry.messages import (
    OBSERVATIONS_STORED,
    BatchOutcome,
    Incoming,
    ObservationsStored,
    Reading,
)
from dothi.telemetry.models import DeadLetter, Entity
from dothi.telemetry.placing import place, ward_paths
from dothi.telemetry.readings import split_attributes
from dothi.telemetry.store import store_readings
from dothi.telemetry.types import type_of

ChangeHook = Callable[[Session, dict[str, set[str]], datetime], object]
"""Called in the batch's transaction with what changed (subscriptions enqueue notifications)."""


class Refused(DothiError):
    """A message the pipeline will not store; its message is the dead letter's reason."""


@dataclass(frozen=True, slots=True)
class _Parsed:
    position: int
    message: Incoming
    attributes: dict[str, Any]


def store_batch(
    session: Session,
    messages: Sequence[Incoming],
    now: datetime,
    day: date,
    on_change: ChangeHook | None = None,
) -> BatchOutcome:
    """Store what is valid of `messages`, dead-letter the rest; the caller commits."""
    outcome = BatchOutcome()
    parsed: list[_Parsed] = []
    for position, message in enumerate(messages):
        try:
            parsed.append(_Parsed(position, message, _parse(message)))
        except Refused as error:
            _dead_letter(session, outcome, position, message, error.message)
    entities = _entities(session, parsed, day, outcome)
    paths = ward_paths(session, list(entities.values()))
    readings: list[Reading] = []
    for item in parsed:
        entity = entities.get(item.message.entity_id)
        if entity is None:
            continue  # refused while resolving
        try:
            path = paths.get(entity.admin_unit_id) if entity.admin_unit_id else None
            check_write(item.message.principal, entity.type, path)
            found, static = split_attributes(entity.id, entity.type, item.attributes, now)
        except DothiError as error:
            _dead_letter(session, outcome, item.position, item.message, error.message)
            continue
        if static:
            entity.properties = {**entity.properties, **static}
            entity.modified_at = now
        readings += found
    stored = store_readings(session, readings)
    outcome.stored, outcome.changes, outcome.newest = stored.count, stored.changes, stored.newest
    outcome.duplicates = len(readings) - stored.count
    if on_change is not None and outcome.changes:
        on_change(session, outcome.changes, now)
    outcome.refused.sort()
    return outcome


def _parse(message: Incoming) -> dict[str, Any]:
    """The attribute document of a message, or Refused saying what is wrong with it."""
    if message.problem is not None:
        raise Refused(message.problem)
    if type_of(message.entity_id) is None:
        raise Refused(f"Entity id {message.entity_id[:100]!r} is not urn:ngsi-ld:<Type>:<id>.")
    try:
        document = json.loads(message.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused(f"The payload is not JSON: {error}.") from None
    if not isinstance(document, dict) or not document:
        raise Refused('The payload must be a JSON object of attributes: {"pm25": 12.5, …}.')
    return document


def _entities(
    session: Session, parsed: list[_Parsed], day: date, outcome: BatchOutcome
) -> dict[str, Entity]:
    """The batch's entities, loaded in one query; unknown ones created where the key may."""
    wanted = {item.message.entity_id for item in parsed}
    found = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_(wanted)))}
    refused: dict[str, str] = {}
    for item in parsed:
        entity_id = item.message.entity_id
        if entity_id in found:
            continue
        if entity_id not in refused:
            try:
                found[entity_id] = _provision(session, item, day)
                continue
            except DothiError as error:
                refused[entity_id] = error.message
        _dead_letter(session, outcome, item.position, item.message, refused[entity_id])
    return found


def _provision(session: Session, item: _Parsed, day: date) -> Entity:
    """A new entity for a message whose key may create entities."""
    message = item.message
    entity_type = type_of(message.entity_id) or ""
    check_provision(message.principal, entity_type)
    location = item.attributes.get("location")
    entity = Entity(
        id=message.entity_id,
        type=entity_type,
        properties={},
        created_by=message.principal.username,
        created_at=message.received_at,
        modified_at=message.received_at,
    )
    place(session, entity, location, day)
    session.add(entity)
    session.flush()
    return entity


def _dead_letter(
    session: Session, outcome: BatchOutcome, position: int, message: Incoming, reason: str
) -> None:
    outcome.refused.append((position, reason))
    session.add(
        DeadLetter(
            received_at=message.received_at,
            source=message.source,
            sender=message.principal.username,
            entity_id=message.entity_id[:256],
            topic=message.topic[:400] if message.topic else None,
            reason=reason[:500],
            payload=message.payload,
        )
    )


class Pipeline:
    """Batches stored in their own transactions, announced on the bus once committed."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        clock: Clock,
        zone: str,
        on_change: ChangeHook | None = None,
    ) -> None:
        self.database = database
        self.bus = bus
        self.clock = clock
        self.zone = zone
        self.on_change = on_change

    def ingest(self, messages: Sequence[Incoming]) -> BatchOutcome:
        """Store a batch in one transaction; raises if the database fails (nothing is stored)."""
        now = self.clock.now()
        with self.database.write() as session:
            outcome = store_batch(
                session, messages, now, local_date(now, self.zone), self.on_change
            )
        announce(self.bus, outcome)
        return outcome


def announce(bus: EventBus, outcome: BatchOutcome) -> None:
    """Tell the bus what a committed batch changed (nothing when it stored nothing new)."""
    if outcome.changes:
        changes = {entity: frozenset(attrs) for entity, attrs in outcome.changes.items()}
        bus.publish(
            OBSERVATIONS_STORED, ObservationsStored(changes, outcome.stored, outcome.newest)
        )
