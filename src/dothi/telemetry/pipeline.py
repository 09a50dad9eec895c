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
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from dothi.core.clock import Clock, local_date
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import DothiError
from dothi.places.service import unit_paths
from dothi.telemetry.access import check_provision, check_write
from dothi.telemetry.messages import (
    OBSERVATIONS_STORED,
    BatchOutcome,
    Incoming,
    ObservationsStored,
    Reading,
)
from dothi.telemetry.models import DeadLetter, Entity
from dothi.telemetry.partitions import ensure_months, month_of
from dothi.telemetry.placing import Placement, place, placement_of
from dothi.telemetry.readings import split_attributes
from dothi.telemetry.store import driver_cursor, fresh_rows, merged, series_of, store_readings
from dothi.telemetry.subscriptions import enqueue_for_changes
from dothi.telemetry.types import type_of

TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)
"""Failures of the database, not of a message: the batch is retried as a whole."""


log = structlog.get_logger(__name__)


class Refused(DothiError):
    """A message the pipeline will not store; its message is the dead letter's reason."""


class _Parsed(NamedTuple):
    position: int
    message: Incoming
    attributes: dict[str, Any]


def store_batch(
    session: Session,
    messages: Sequence[Incoming],
    now: datetime,
    day: date,
) -> BatchOutcome:
    """Store what is valid of `messages`, dead-letter the rest; the caller commits.

    The subscriptions' notifications of the changes go to the outbox in the same
    transaction: stored and notified, or neither.
    """
    outcome = BatchOutcome()
    ids = {message.entity_id for message in messages if type_of(message.entity_id)}
    entities = _known_entities(session, ids)
    paths = unit_paths(session, {e.admin_unit_id for e in entities.values() if e.admin_unit_id})
    cursor, postgres = driver_cursor(session)
    months = None
    if postgres:  # this month's and last month's partitions; readings of others come later
        months = {month_of(now), month_of(now - timedelta(days=now.day))}
        ensure_months(session, months)
    accepted = 0  # readings
    rest: list[Reading] = []  # those the fresh rows did not take
    later: list[_Parsed] = []  # messages that change their entity (or create it)
    allowed: set[tuple[int, str, str | None]] = set()
    # In entity order (the sort is stable: then by position): concurrent batches then take
    # their row locks in the same order. Each payload is parsed only now, and dropped once
    # read, so that the collector never scans a batch's worth of documents.
    order = sorted(range(len(messages)), key=lambda position: messages[position].entity_id)
    with fresh_rows(cursor, postgres, series_of(cursor, entities, postgres), months) as fresh:
        for position in order:  # no statement may run here: the rows stream to the database
            message = messages[position]
            try:
                item = _Parsed(position, message, _parse(message))
                known = entities.get(message.entity_id)
                found = _readings_of(item, known, paths, allowed, now)
            except DothiError as error:
                _dead_letter(session, outcome, position, message, error.message)
                continue
            if found is None:
                later.append(item)
                continue
            accepted += len(found)
            rest += fresh.add(found)
    static_changes: dict[str, set[str]] = {}
    for item in later:
        try:
            found, static = _accept(session, item, entities, paths, now, day)
        except DothiError as error:
            _dead_letter(session, outcome, item.position, item.message, error.message)
            continue
        accepted += len(found)
        rest += found
        if static:
            static_changes.setdefault(item.message.entity_id, set()).update(static)
    stored = merged(fresh.stored, store_readings(session, rest))
    outcome.stored, outcome.changes, outcome.newest = stored.count, stored.changes, stored.newest
    outcome.duplicates = accepted - stored.count
    for entity_id, names in static_changes.items():
        outcome.changes.setdefault(entity_id, set()).update(names)
    enqueue_for_changes(session, outcome.changes, now)
    outcome.refused.sort()
    return outcome


def _parse(message: Incoming) -> dict[str, Any]:
    """The attribute document of a message, or Refused saying what is wrong with it."""
    if message.problem is not None:
        raise Refused(message.problem)
    if type_of(message.entity_id) is None:
        raise Refused(f"Entity id {message.entity_id[:100]!r} is not urn:ngsi-ld:<Type>:<id>.")
    try:
        document = orjson.loads(message.payload)
    except orjson.JSONDecodeError:
        document = _read_slowly(message.payload)
    if not isinstance(document, dict) or not document:
        raise Refused('The payload must be a JSON object of attributes: {"pm25": 12.5, …}.')
    return document


def _read_slowly(payload: bytes) -> Any:
    """A payload orjson refused, read by the standard library: it takes numbers of any size
    and UTF-16 (the checks then refuse what they must, saying why), and says what is wrong
    with the rest."""
    try:
        return json.loads(payload, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # ValueError: bad JSON, bad UTF-8, huge ints
        raise Refused(f"The payload is not JSON: {str(error)[:200]}.") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


class _Known(NamedTuple):
    """What the checks need of a stored entity (plain rows: a batch reads hundreds)."""

    type: str
    admin_unit_id: uuid.UUID | None
    properties: dict[str, Any]


def _known_entities(session: Session, ids: set[str]) -> dict[str, _Known]:
    query = select(Entity.id, Entity.type, Entity.admin_unit_id, Entity.properties)
    rows = session.execute(query.where(Entity.id.in_(ids))).all()
    return {row[0]: _Known(*row[1:]) for row in rows}


def _readings_of(
    item: _Parsed,
    known: _Known | None,
    paths: dict[uuid.UUID, str],
    allowed: set[tuple[int, str, str | None]],
    now: datetime,
) -> list[Reading] | None:
    """The readings of a message that only brings readings of a stored entity, checked;
    None for any other message (`_accept` takes it, with the database at hand).

    `allowed` remembers the (principal, type, ward) writes already checked in the batch.
    """
    if known is None:
        return None
    message = item.message
    readings, static = split_attributes(
        message.entity_id, known.type, item.attributes, now, message.received_at
    )
    if static and any(known.properties.get(name) != value for name, value in static.items()):
        return None
    path = paths.get(known.admin_unit_id) if known.admin_unit_id else None
    cleared = (id(message.principal), known.type, path)  # the batch's messages share a few
    if cleared not in allowed:
        check_write(message.principal, known.type, path)
        allowed.add(cleared)
    return readings


def _accept(
    session: Session,
    item: _Parsed,
    entities: dict[str, _Known],
    paths: dict[uuid.UUID, str],
    now: datetime,
    day: date,
) -> tuple[list[Reading], dict[str, Any]]:
    """Check a message against its entity and key, apply its static attributes that changed;
    its readings and those attributes.

    Everything is validated before anything changes, so a refused message leaves
    no trace but its dead letter (an entity is created only for an accepted one).
    """
    message = item.message
    known = entities.get(message.entity_id)
    entity_type = known.type if known else type_of(message.entity_id) or ""
    readings, static = split_attributes(
        message.entity_id, entity_type, item.attributes, now, message.received_at
    )
    held = known.properties if known else {}
    changed = {name: value for name, value in static.items() if held.get(name) != value}
    moved = placement_of(session, changed["location"], day) if "location" in changed else None
    if known is None:
        placement = moved or Placement()
        check_provision(message.principal, entity_type, placement.path)
        entity = _provision(session, message, entity_type, placement)
    else:
        path = paths.get(known.admin_unit_id) if known.admin_unit_id else None
        check_write(message.principal, known.type, path)
        if not changed:
            return readings, changed
        if moved is not None:
            check_write(message.principal, known.type, moved.path)
        entity = session.get_one(Entity, message.entity_id)  # the ORM only for the rare change
        if moved is not None:
            place(entity, moved)
    if moved is not None and moved.admin_unit_id is not None and moved.path is not None:
        paths[moved.admin_unit_id] = moved.path
    if changed:
        entity.properties = {**entity.properties, **changed}
        entity.modified_at = now
    entities[entity.id] = _Known(entity.type, entity.admin_unit_id, entity.properties)
    return readings, changed


def _provision(
    session: Session, message: Incoming, entity_type: str, placement: Placement
) -> Entity:
    """A new entity for an accepted message whose key may create entities."""
    entity = Entity(
        id=message.entity_id,
        type=entity_type,
        properties={},
        created_by=message.principal.username,
        created_at=message.received_at,
        modified_at=message.received_at,
    )
    place(entity, placement)
    session.add(entity)
    session.flush()
    return entity


def _clean(text: str, limit: int) -> str:
    """Text a dead letter can keep on both backends (PostgreSQL refuses NUL characters)."""
    return text.replace("\x00", "\ufffd")[:limit]


def _dead_letter(
    session: Session, outcome: BatchOutcome, position: int, message: Incoming, reason: str
) -> None:
    outcome.refused.append((position, reason))
    session.add(
        DeadLetter(
            received_at=message.received_at,
            source=_clean(message.source, 20),
            sender=_clean(message.principal.username, 64),
            entity_id=_clean(message.entity_id, 256),
            topic=_clean(message.topic, 400) if message.topic else None,
            reason=_clean(reason, 500),
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
    ) -> None:
        self.database = database
        self.bus = bus
        self.clock = clock
        self.zone = zone

    def ingest(self, messages: Sequence[Incoming]) -> BatchOutcome:
        """Store a batch in one transaction and announce it.

        Raises when the database is unavailable (or a deadlock broke the
        transaction): nothing was stored, the caller retries the batch. Any other
        failure is a message the checks let through: the batch is then stored
        message by message, and the one that fails goes to the dead letters,
        so that one bad message never blocks a queue.
        """
        try:
            outcome = self._store(messages)
        except TRANSIENT:
            raise
        except Exception:
            log.exception("batch failed; storing its messages one by one", size=len(messages))
            outcome = self._one_by_one(messages)
        announce(self.bus, outcome)
        return outcome

    def _store(self, messages: Sequence[Incoming]) -> BatchOutcome:
        """One transaction; once more if another writer created the same entity meanwhile."""
        try:
            return self._store_once(messages)
        except IntegrityError:
            return self._store_once(messages)

    def _store_once(self, messages: Sequence[Incoming]) -> BatchOutcome:
        now = self.clock.now()
        with self.database.write() as session:
            return store_batch(session, messages, now, local_date(now, self.zone))

    def _one_by_one(self, messages: Sequence[Incoming]) -> BatchOutcome:
        total = BatchOutcome()
        for position, message in enumerate(messages):
            try:
                single = self._store([message])
            except TRANSIENT:
                raise
            except Exception as error:
                single = BatchOutcome()
                reason = f"Could not be stored ({type(error).__name__}); kept for inspection."
                with self.database.write() as session:
                    _dead_letter(session, single, 0, message, reason)
            total.merge(single, position)
        return total


def announce(bus: EventBus, outcome: BatchOutcome) -> None:
    """Tell the bus what a committed batch changed (nothing when it stored nothing new)."""
    if outcome.changes:
        changes = {entity: frozenset(attrs) for entity, attrs in outcome.changes.items()}
        bus.publish(
            OBSERVATIONS_STORED, ObservationsStored(changes, outcome.stored, outcome.newest)
        )
