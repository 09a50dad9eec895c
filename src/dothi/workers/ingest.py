"""`dothi worker ingest`: device telemetry from MQTT into the ingest pipeline, exactly once.

The worker subscribes with QoS 1 in a persistent session (fixed client id,
clean_start off) through a shared subscription, so several workers split the
devices' messages. A message is acknowledged only after the batch holding it is
committed: if the worker dies, the broker sends the unacknowledged ones again,
and the pipeline, idempotent on (entity, attribute, observedAt), stores them once.

Backpressure: the worker announces a Receive Maximum, the number of messages
the broker may send it without acknowledgement. While the database is slow or
down nothing is acknowledged, so the broker stops after that many and keeps the
rest in its queue; the worker's memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from dothi.accounts.permissions import SYSTEM
from dothi.connectors.mqtt import (
    INGEST_GROUP,
    BrokerAddress,
    BrokerError,
    connect,
    entity_of,
    make_client,
    shared_attrs_subscription,
)
from dothi.core.clock import Clock, SystemClock
from dothi.telemetry.messages import BatchOutcome, Incoming

log = structlog.get_logger(__name__)

Handler = Callable[[Sequence[Incoming]], BatchOutcome]
"""Stores a batch in one committed transaction, or raises (the pipeline's `ingest`)."""

MQTT_PRINCIPAL = replace(SYSTEM, username="mqtt", provision=True)
"""Who MQTT messages come from: the broker has checked the device's key and topic."""

SESSION_EXPIRY = 7 * 24 * 3600  # a worker down over a long weekend finds its messages waiting
POLL = 0.5  # seconds between looks at the stop flag while idle
RETRY_FIRST, RETRY_MAX = 0.5, 30.0


BATCH_SIZE = 5000
"""Messages a batch holds at most. Under load a batch fills up; the work per batch (its
entities, their series, one latest value per attribute, the commit) is then shared by more
messages: 5,000 stores half again as many observations a second as 1,000 (bench/ingest.py)."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How one worker subscribes and batches."""

    client_id: str
    tenant: str = "default"
    group: str = INGEST_GROUP
    batch_size: int = BATCH_SIZE
    batch_wait: float = 0.2
    session_expiry: int = SESSION_EXPIRY

    @property
    def receive_maximum(self) -> int:
        """Unacknowledged messages the broker may send: one batch being stored, one filling."""
        return min(2 * self.batch_size, 65_535)


@dataclass(slots=True)
class IngestTotals:
    """What the worker has done since it started."""

    messages: int = 0
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class _Received:
    connection: int  # a message id only means something on the connection it came on
    mid: int
    qos: int
    message: Incoming


@dataclass(slots=True)
class _Connection:
    """The current connection's number, changed under `lock` so that no stale ack slips out."""

    number: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    refused: str | None = None


class IngestWorker:
    """One ingest worker: `run()` until the stop event is set."""

    def __init__(
        self,
        address: BrokerAddress,
        handler: Handler,
        options: IngestOptions,
        clock: Clock | None = None,
    ) -> None:
        self._address = address
        self._handler = handler
        self._options = options
        self._clock = clock or SystemClock()
        # Bounded by what the broker may send unacknowledged; the bound is a guard only.
        self._queue: queue.Queue[_Received] = queue.Queue(maxsize=options.receive_maximum)
        self._connection = _Connection()
        self._client = make_client(address, options.client_id)
        self._client.manual_ack_set(True)
        self.totals = IngestTotals()
        self.subscribed = threading.Event()
        """Set once the broker has granted the subscription (health checks, tests)."""

    def run(self, stop: threading.Event) -> IngestTotals:
        """Receive, store and acknowledge until `stop` is set; then finish the batch and leave."""
        client = self._client
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        connect(
            client,
            self._address,
            clean_start=False,
            session_expiry=self._options.session_expiry,
            receive_maximum=self._options.receive_maximum,
        )
        try:
            while not stop.is_set():
                if self._connection.refused:
                    raise BrokerError(
                        f"The broker refused the subscription: {self._connection.refused}"
                    )
                batch = self._collect()
                if batch and self._store(batch, stop):
                    self._acknowledge(batch)
        finally:
            # Acknowledgements already queued are written before the DISCONNECT.
            client.disconnect()
            client.loop_stop()
            log.info(
                "ingest worker stopped", client_id=self._options.client_id, **asdict(self.totals)
            )
        return self.totals

    def _collect(self) -> list[_Received]:
        """Up to `batch_size` messages, waiting at most `batch_wait` after the first."""
        try:
            batch = [self._queue.get(timeout=POLL)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self._options.batch_wait
        while len(batch) < self._options.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        # Messages of a lost connection will come again on the new one: store those.
        current = self._connection.number
        return [item for item in batch if item.connection == current]

    def _store(self, batch: list[_Received], stop: threading.Event) -> bool:
        """Hand the batch to the pipeline until it commits; False if told to stop first."""
        delay = RETRY_FIRST
        while True:
            try:
                outcome = self._handler([item.message for item in batch])
            except Exception:
                self.totals.failures += 1
                log.exception("storing a batch failed; nothing acknowledged", retry_in=delay)
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, RETRY_MAX)
                continue
            totals = self.totals
            totals.batches += 1
            totals.messages += len(batch)
            totals.stored += outcome.stored
            totals.duplicates += outcome.duplicates
            totals.dead_letters += len(outcome.refused)
            log.debug("batch stored", size=len(batch), stored=outcome.stored)
            return True

    def _acknowledge(self, batch: list[_Received]) -> None:
        """PUBACK each message in the order received, unless its connection is gone."""
        with self._connection.lock:
            current = self._connection.number
            for item in batch:
                if item.connection == current:
                    self._client.ack(item.mid, item.qos)

    # Callbacks, on paho's network thread.

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            return
        with self._connection.lock:
            self._connection.number += 1
        # What is still queued came on an older connection and will come again.
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        topic = shared_attrs_subscription(self._options.tenant, self._options.group)
        client.subscribe(topic, options=SubscribeOptions(qos=1))
        log.info("connected to the MQTT broker", session_present=flags.session_present)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        with self._connection.lock:
            self._connection.number += 1
        if reason.is_failure:
            log.warning("lost the MQTT broker; reconnecting", reason=reason.getName())

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        failed = [reason.getName() for reason in reasons if reason.is_failure]
        if failed:
            self._connection.refused = ", ".join(failed)
            return
        self.subscribed.set()
        log.info("ingest worker subscribed", client_id=self._options.client_id)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        incoming = Incoming(
            source="mqtt",
            entity_id=entity_of(message.topic) or "",
            payload=bytes(message.payload),
            received_at=self._clock.now(),
            principal=MQTT_PRINCIPAL,
            topic=message.topic,
        )
        self._queue.put(_Received(self._connection.number, message.mid, message.qos, incoming))
