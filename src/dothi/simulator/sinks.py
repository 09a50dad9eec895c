"""Where simulated messages go: the real ingest paths, in process or through MQTT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import structlog

from dothi.accounts.permissions import Principal
from dothi.connectors.mqtt import attrs_topic
from dothi.connectors.publisher import WindowedPublisher
from dothi.simulator.engine import Outgoing
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline

log = structlog.get_logger(__name__)

FLUSH_TIMEOUT = 60.0  # seconds to wait for the broker's last acknowledgements


class Sink(Protocol):
    def send(self, messages: Sequence[Outgoing]) -> None:
        """Deliver a batch (raises if it cannot: nothing simulated is dropped quietly)."""

    def close(self) -> None:
        """Deliver what is still on its way and let go of the connection."""


class PipelineSink:
    """The in-process ingest pipeline: one `ingest` call (one transaction) per batch."""

    def __init__(self, pipeline: Pipeline, principal: Principal) -> None:
        self.pipeline = pipeline
        self.principal = principal
        self.stored = 0
        self.refused = 0

    def send(self, messages: Sequence[Outgoing]) -> None:
        received = self.pipeline.clock.now()
        outcome = self.pipeline.ingest(
            [
                Incoming("simulator", m.entity_id, m.payload, received, self.principal)
                for m in messages
            ]
        )
        self.stored += outcome.stored
        if outcome.refused:
            # The simulator should only send what Smart Data Models allow: a refusal is a bug.
            self.refused += len(outcome.refused)
            reason = outcome.refused[0][1]
            log.warning("simulated messages refused", count=len(outcome.refused), first=reason)

    def close(self) -> None:
        """Nothing is held back: every batch was committed when `send` returned."""


class MqttSink:
    """Publish each message QoS 1 on `dothi/v1/<tenant>/<entity-id>/attrs`, as a device does."""

    def __init__(self, publisher: WindowedPublisher, tenant: str) -> None:
        self.publisher = publisher
        self.tenant = tenant

    def send(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            self.publisher.publish(attrs_topic(self.tenant, message.entity_id), message.payload)

    def close(self) -> None:
        if not self.publisher.flush(FLUSH_TIMEOUT):
            log.warning("the MQTT broker did not acknowledge every simulated message in time")
        self.publisher.close()
