"""MQTT transport: the broker's address, dothi's topics and MQTT 5 clients (paho-mqtt 2).

Topics: devices publish `dothi/v1/<tenant>/<entity-id>/attrs` and read
`dothi/v1/<tenant>/<entity-id>/cmd`. Ingest workers share the load through the
MQTT 5 shared subscription `$share/dothi-ingest/dothi/v1/<tenant>/+/attrs`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.client import CallbackOnConnect_v2
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from dothi.errors import DothiError, InvalidInput

TOPIC_ROOT = "dothi/v1"
INGEST_GROUP = "dothi-ingest"
CONNECT_TIMEOUT = 10.0
KEEPALIVE = 30
_FORBIDDEN_IN_LEVEL = frozenset("/+#\0")


class BrokerError(DothiError):
    """The broker cannot be reached or refused the connection."""

    status = 502
    code = "broker_unavailable"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and how to log in (`mqtt://user:pw@host:port`, `mqtts://` for TLS)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def with_login(self, username: str, password: str) -> BrokerAddress:
        return BrokerAddress(self.host, self.port, username, password, self.tls)


def parse_broker_url(url: str) -> BrokerAddress:
    """Read `mqtt://[user[:password]@]host[:port]`; the port defaults to 1883 (8883 for mqtts)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise InvalidInput(f"Not an MQTT broker URL (mqtt://host:port): {parts.scheme}://…")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as error:
        raise InvalidInput(f"Bad port in the MQTT broker URL: {error}") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port, username, password, tls)


def _level(value: str, what: str) -> str:
    """A topic level made of `value`, refusing what would change the topic's shape."""
    if not value or _FORBIDDEN_IN_LEVEL & set(value):
        raise InvalidInput(f"A {what} in an MQTT topic must be non-empty without / + # : {value!r}")
    return value


def attrs_topic(tenant: str, entity_id: str) -> str:
    """Where a device publishes its attributes."""
    return f"{TOPIC_ROOT}/{_level(tenant, 'tenant')}/{_level(entity_id, 'entity id')}/attrs"


def command_topic(tenant: str, entity_id: str) -> str:
    """Where a device reads the commands sent to it."""
    return f"{TOPIC_ROOT}/{_level(tenant, 'tenant')}/{_level(entity_id, 'entity id')}/cmd"


def attrs_filter(tenant: str) -> str:
    """Every device's attributes in a tenant (for the ACL and subscriptions)."""
    return f"{TOPIC_ROOT}/{_level(tenant, 'tenant')}/+/attrs"


def command_filter(tenant: str) -> str:
    """Every device's commands in a tenant."""
    return f"{TOPIC_ROOT}/{_level(tenant, 'tenant')}/+/cmd"


def shared_attrs_subscription(tenant: str, group: str = INGEST_GROUP) -> str:
    """The shared subscription through which the workers of `group` split the attributes."""
    return f"$share/{_level(group, 'group')}/{attrs_filter(tenant)}"


def entity_of(topic: str) -> str | None:
    """The entity id in an attributes or command topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != TOPIC_ROOT or parts[4] not in ("attrs", "cmd"):
        return None
    return parts[3] or None


def packet_properties(packet_type: int) -> Properties:
    """Empty MQTT 5 properties for a packet type (paho leaves this constructor untyped)."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def make_client(address: BrokerAddress, client_id: str = "", *, inflight: int = 20) -> mqtt.Client:
    """An MQTT 5 client logged in as the address says; `inflight` caps its unacknowledged sends."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.max_inflight_messages_set(inflight)
    return client


def connect(
    client: mqtt.Client,
    address: BrokerAddress,
    *,
    clean_start: bool = True,
    session_expiry: int = 0,
    receive_maximum: int | None = None,
    timeout: float = CONNECT_TIMEOUT,
) -> Properties | None:
    """Connect, start the network thread and wait for the broker's answer.

    Returns the CONNACK properties (the broker's limits). Raises BrokerError when
    the broker is unreachable or refuses (wrong password, not authorised). Later
    reconnections are paho's, with the same options.
    """
    answered = threading.Event()
    answer: list[tuple[ReasonCode, Properties | None]] = []
    previous = client.on_connect

    def on_connect(
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        answer.append((reason, properties))
        answered.set()
        if previous is not None:
            cast(CallbackOnConnect_v2, previous)(client, userdata, flags, reason, properties)

    client.on_connect = on_connect
    properties = packet_properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = session_expiry
    if receive_maximum is not None:
        properties.ReceiveMaximum = receive_maximum
    try:
        client.connect(
            address.host,
            address.port,
            keepalive=KEEPALIVE,
            clean_start=clean_start,
            properties=properties,
        )
    except OSError as error:
        where = f"{address.host}:{address.port}"
        raise BrokerError(f"Cannot reach the MQTT broker {where}: {error}") from None
    client.loop_start()
    try:
        if not answered.wait(timeout):
            raise BrokerError(f"The MQTT broker {address.host}:{address.port} did not answer.")
        reason, connack = answer[0]
        if reason.is_failure:
            raise BrokerError(f"The MQTT broker refused the connection: {reason.getName()}")
    except BrokerError:
        client.loop_stop()
        client.disconnect()
        raise
    finally:
        client.on_connect = previous
    return connack
