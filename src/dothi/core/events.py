"""A typed, in-process event bus: parts of dothi tell each other that something changed.

The bus carries news, not data: whatever must not be lost is in the database
before its event is published. An event type names its payload type, so a
subscriber knows what it gets (`EventType[ObservationsStored]`). Subscribers
run in the publisher's thread; one that fails is logged and the others still run.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EventType(Generic[T]):
    """The name of an event whose payload is a `T`."""

    name: str


Handler = Callable[[T], None]


class EventBus:
    """Publish and subscribe by event type, thread-safe."""

    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Callable[[Any], None]]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, event: EventType[T], handler: Handler[T]) -> Callable[[], None]:
        """Call `handler` with every payload of `event`; returns the unsubscribe function."""
        with self._lock:
            self._handlers[event.name].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                self._handlers[event.name].remove(handler)

        return unsubscribe

    def publish(self, event: EventType[T], payload: T) -> None:
        """Hand `payload` to every subscriber of `event`."""
        with self._lock:
            handlers = list(self._handlers[event.name])
        for handler in handlers:
            try:
                handler(payload)
            except Exception:
                log.exception("event handler failed", event_type=event.name)
