"""Publishing QoS 1 with a window, and commands to devices.

paho-mqtt queues every publish in memory and has been seen to stall for good
with 200,000 QoS 1 messages queued at once: the publisher here lets at most
`window` messages wait for their PUBACK and blocks the caller beyond that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from dothi.connectors.mqtt import (
    BrokerAddress,
    BrokerError,
    command_topic,
    connect,
    make_client,
    packet_properties,
)

WINDOW = 1000
COMMAND_TIMEOUT = 10.0
COMMAND_EXPIRY = 300
"""Seconds the broker keeps a command for an offline device: a late "dim now" is a wrong one."""


class WindowedPublisher:
    """A connected MQTT 5 client that keeps at most `window` QoS 1 messages unacknowledged."""

    def __init__(self, address: BrokerAddress, client_id: str = "", window: int = WINDOW) -> None:
        self._client = make_client(address, client_id, inflight=window)
        self._client.on_publish = self._on_publish
        self._lock = threading.Condition()
        self._unacked = 0
        self.acknowledged = 0
        self.refused = 0
        """Messages the broker answered with a failure reason (e.g. not authorised by the ACL)."""
        connack = connect(self._client, address)
        # The broker may accept fewer unacknowledged messages than we would send.
        broker_limit = getattr(connack, "ReceiveMaximum", window) if connack else window
        self.window = max(1, min(window, broker_limit))

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, properties: Properties | None = None
    ) -> mqtt.MQTTMessageInfo:
        """Send one message, first waiting while `window` messages are unacknowledged."""
        with self._lock:
            self._lock.wait_for(lambda: self._unacked < self.window)
            self._unacked += 1
        try:
            info = self._client.publish(topic, payload, qos=qos, properties=properties)
        except BaseException:  # a refused topic or payload is never acknowledged: free its slot
            self._settle(failed=True)
            raise
        if qos == 0:
            self._settle(failed=False)
        return info

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every message sent so far is acknowledged; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._unacked == 0, timeout)

    def close(self) -> None:
        """Disconnect (after what is queued is written) and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> WindowedPublisher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reason: ReasonCode,
        _properties: Properties,
    ) -> None:
        self._settle(failed=reason.is_failure)

    def _settle(self, *, failed: bool) -> None:
        with self._lock:
            self._unacked -= 1
            if failed:
                self.refused += 1
            else:
                self.acknowledged += 1
            self._lock.notify_all()


def publish_command(
    publisher: WindowedPublisher,
    tenant: str,
    entity_id: str,
    command: Mapping[str, Any],
    timeout: float = COMMAND_TIMEOUT,
    expiry: int = COMMAND_EXPIRY,
) -> None:
    """Send a command (a JSON object) to a device and wait until the broker has it.

    Raises BrokerError when the broker is not connected (nothing is sent) or does
    not acknowledge in time (it may still arrive, within `expiry` seconds).
    """
    if not publisher.connected:
        raise BrokerError(
            f"Not connected to the MQTT broker: the command to {entity_id} was not sent."
        )
    payload = json.dumps(command, ensure_ascii=False, separators=(",", ":")).encode()
    properties = packet_properties(PacketTypes.PUBLISH)
    properties.MessageExpiryInterval = expiry
    properties.ContentType = "application/json"
    info = publisher.publish(command_topic(tenant, entity_id), payload, properties=properties)
    try:
        info.wait_for_publish(timeout)
    except (RuntimeError, ValueError) as error:
        raise BrokerError(f"The command to {entity_id} was not sent: {error}") from None
    if not info.is_published():
        raise BrokerError(f"The broker did not acknowledge the command to {entity_id} in time.")
