"""What the ingest pipeline takes in and gives back, whatever the transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from dothi.accounts.permissions import Principal
from dothi.core.events import EventType


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as it arrived: who sent it, for which entity, the raw payload.

    The payload is the transport's bytes, parsed by the pipeline, so that a bad
    one is kept in the dead letters exactly as it came.
    """

    source: str  # mqtt, http, ngsi-ld, simulator
    entity_id: str
    payload: bytes
    received_at: datetime
    principal: Principal
    topic: str | None = None
    problem: str | None = None  # set by a transport that already knows the message is bad


class Reading(NamedTuple):
    """One value of one attribute of one entity at one time, validated (a tuple: made by
    the hundred thousand a second on the ingest path)."""

    entity_id: str
    attribute: str
    observed_at: datetime
    value: float | str | None
    unit_code: str | None = None


@dataclass(slots=True)
class BatchOutcome:
    """What became of a batch: readings stored (new), duplicates ignored, messages refused.

    `refused` holds (position in the batch, reason) of every message sent to the
    dead letters, so a caller can report per line.
    """

    stored: int = 0
    duplicates: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    changes: dict[str, set[str]] = field(default_factory=dict)
    newest: datetime | None = None

    def merge(self, other: BatchOutcome, offset: int) -> None:
        """Add the outcome of a part of the batch that started at position `offset`."""
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.refused += [(offset + position, reason) for position, reason in other.refused]
        for entity_id, names in other.changes.items():
            self.changes.setdefault(entity_id, set()).update(names)
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest


@dataclass(frozen=True, slots=True)
class ObservationsStored:
    """A batch of observations was committed; what changed, for rules and live views."""

    changes: dict[str, frozenset[str]]  # entity id → attributes with new values
    stored: int
    newest: datetime | None


OBSERVATIONS_STORED: EventType[ObservationsStored] = EventType("telemetry.observations_stored")
