"""MQTT transport against a real Mosquitto: addresses, topics, the window, no drops, logins."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import select
from typer.testing import CliRunner

from dothi.accounts.apikeys import (
    broker_logins,
    create_api_key,
    ensure_integration_key,
    revoke_api_key,
)
from dothi.accounts.models import User, UserScope
from dothi.accounts.permissions import SYSTEM, Role
from dothi.accounts.schemas import ApiKeyCreate
from dothi.cli import app
from dothi.connectors.mqtt import (
    BrokerAddress,
    BrokerError,
    attrs_topic,
    command_topic,
    connect,
    entity_of,
    make_client,
    parse_broker_url,
    shared_attrs_subscription,
)
from dothi.connectors.mqtt_auth import broker_accounts
from dothi.connectors.publisher import WindowedPublisher, publish_command
from dothi.core.clock import SystemClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import InvalidInput
from dothi.places.models import AdminUnit
from dothi.places.service import root_unit_ids
from dothi.telemetry.pipeline import Pipeline
from tests.mqtt import Broker, running_broker, wait_for
from tests.telemetry.helpers import WARD_7, WARD_9, message

ENTITY = "urn:ngsi-ld:Streetlight:pn-001"


def test_broker_urls_are_read_with_their_login() -> None:
    assert parse_broker_url("mqtt://127.0.0.1") == BrokerAddress("127.0.0.1", 1883)
    assert parse_broker_url("mqtts://worker:p%40ss@broker.example:8884") == BrokerAddress(
        "broker.example", 8884, "worker", "p@ss", tls=True
    )
    assert parse_broker_url("mqtts://broker.example").port == 8883
    for bad in ("http://broker", "mqtt://", "mqtt://host:port"):
        with pytest.raises(InvalidInput):
            parse_broker_url(bad)


def test_topics_name_tenant_and_entity() -> None:
    assert attrs_topic("hcm", ENTITY) == f"dothi/v1/hcm/{ENTITY}/attrs"
    assert command_topic("hcm", ENTITY) == f"dothi/v1/hcm/{ENTITY}/cmd"
    assert shared_attrs_subscription("hcm") == "$share/dothi-ingest/dothi/v1/hcm/+/attrs"
    assert entity_of(attrs_topic("hcm", ENTITY)) == ENTITY
    assert entity_of(command_topic("hcm", ENTITY)) == ENTITY
    assert entity_of("dothi/v1/hcm/x/other") is None
    assert entity_of("elsewhere/v1/hcm/x/attrs") is None
    for bad in ("", "a/b", "a+", "#"):
        with pytest.raises(InvalidInput):
            attrs_topic("hcm", bad)


class Collector:
    """An MQTT 5 subscriber that acknowledges only once told to: a slow consumer."""

    def __init__(self, broker: Broker, client_id: str, topic: str, address: BrokerAddress) -> None:
        self.payloads: set[bytes] = set()
        self._lock = threading.Lock()
        self._held: list[tuple[int, int]] = []
        self._acking = False
        self.client = make_client(address, client_id)
        self.client.manual_ack_set(True)
        self.client.on_message = self._on_message
        connect(self.client, address, clean_start=False, session_expiry=600, receive_maximum=10)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.subscribe(topic, options=SubscribeOptions(qos=1))
        assert subscribed.wait(10)

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.payloads.add(bytes(message.payload))
            if self._acking:
                client.ack(message.mid, message.qos)
            else:
                self._held.append((message.mid, message.qos))

    def start_acking(self) -> None:
        with self._lock:
            self._acking = True
            for mid, qos in self._held:
                self.client.ack(mid, qos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.parametrize("queue_limit", [True, False], ids=["deploy-config", "mosquitto-default"])
def test_a_slow_subscriber_gets_every_message_only_with_the_deploy_config(
    mosquitto: str, tmp_path: Path, queue_limit: bool
) -> None:
    count = 3000  # three times Mosquitto's default queue
    with running_broker(mosquitto, tmp_path / "broker", queue_limit=queue_limit) as broker:
        topic = attrs_topic("default", ENTITY)
        slow = Collector(broker, "slow", topic, broker.address())
        with WindowedPublisher(broker.address(), "fast") as publisher:
            for number in range(count):
                publisher.publish(topic, b"%d" % number)
            assert publisher.flush(30)
            assert publisher.acknowledged == count and publisher.refused == 0
        slow.start_acking()
        if queue_limit:
            wait_for("every message", lambda: len(slow.payloads) == count)
        else:
            wait_for("the drop", lambda: "Outgoing messages are being dropped" in broker.log)
            assert len(slow.payloads) < count
        slow.close()


def test_the_window_bounds_unacknowledged_messages(broker: Broker) -> None:
    with WindowedPublisher(broker.address(), "windowed", window=50) as publisher:
        assert publisher.window == 50
        for number in range(2000):
            publisher.publish(attrs_topic("default", ENTITY), b"%d" % number)
        assert publisher.flush(30)
        assert publisher.acknowledged == 2000


def test_a_command_reaches_the_device(broker: Broker) -> None:
    device = Collector(broker, "device", command_topic("t1", ENTITY), broker.address())
    device.start_acking()
    with WindowedPublisher(broker.address(), "dothi-commands") as publisher:
        publish_command(publisher, "t1", ENTITY, {"powerState": "off", "dim": 30})
    wait_for("the command", lambda: bool(device.payloads))
    assert device.payloads == {b'{"powerState":"off","dim":30}'}
    device.close()


def _integration_key(db: Database, username: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A machine user over the whole tree with a key free of limits: user id, key id, secret."""
    clock = SystemClock()
    with db.write() as session:
        user = User(username=username, role=Role.INTEGRATION, created_at=clock.now())
        session.add(user)
        session.flush()
        for root in root_unit_ids(session, clock.now().date()):
            session.add(UserScope(user_id=user.id, admin_unit_id=root))
        data = ApiKeyCreate(name="sensors", provision=True)
        key = create_api_key(session, SYSTEM, user.id, data, clock)
    return user.id, key.id, key.secret


def _logs_in(address: BrokerAddress) -> bool:
    try:
        WindowedPublisher(address).close()
    except BrokerError:
        return False
    return True


def test_keys_synced_by_dothi_mqtt_sync_log_in_and_wrong_ones_do_not(
    mosquitto: str, tmp_path: Path, database_url: str, demo_db: Database
) -> None:
    db = demo_db
    user_id, key_id, secret = _integration_key(db, "sensors")
    with running_broker(mosquitto, tmp_path / "broker", secured=True) as broker:
        run = CliRunner(
            env={
                "DOTHI_DATABASE_URL": database_url,
                "DOTHI_MQTT_URL": broker.url("dothi-worker", "worker-secret"),
                "DOTHI_MQTT_TENANT": "t1",
            }
        )
        sync = [
            "mqtt",
            "sync",
            f"--password-file={broker.password_file}",
            f"--acl-file={broker.acl_file}",
            f"--pid-file={broker.pid_file}",
        ]
        answer = run.invoke(app, sync)
        assert answer.exit_code == 0, answer.output
        assert "1 device logins and the worker's" in answer.output
        device = broker.address(secret[:8], secret)
        wait_for("the broker to reload its logins", lambda: _logs_in(device))
        with pytest.raises(BrokerError, match="authori"):
            WindowedPublisher(broker.address(secret[:8], "wrong" + secret))
        with pytest.raises(BrokerError, match="authori"):
            WindowedPublisher(broker.address())  # anonymous

        worker_login = broker.address("dothi-worker", "worker-secret")
        worker = Collector(broker, "worker", shared_attrs_subscription("t1"), worker_login)
        worker.start_acking()
        with WindowedPublisher(device) as publisher:
            publisher.publish(attrs_topic("t1", ENTITY), b'{"powerState": "on"}')
            publisher.publish(attrs_topic("other-tenant", ENTITY), b'{"powerState": "on"}')
            assert publisher.flush(10)
            assert (publisher.acknowledged, publisher.refused) == (1, 1)
        wait_for("the worker to receive", lambda: bool(worker.payloads))
        assert worker.payloads == {b'{"powerState": "on"}'}
        worker.close()

        with db.write() as session:
            revoke_api_key(session, SYSTEM, user_id, key_id, SystemClock())
        answer = run.invoke(app, sync)
        assert "0 device logins" in answer.output
        wait_for("the broker to forget the revoked key", lambda: not _logs_in(device))


def test_a_refused_publish_frees_its_place_in_the_window(broker: Broker) -> None:
    with WindowedPublisher(broker.address(), window=2) as publisher:
        for _ in range(3):
            with pytest.raises(ValueError):
                publisher.publish("dothi/v1/t/+/attrs", b"{}")  # wildcards cannot be published to
        info = publisher.publish("dothi/v1/t/urn:ngsi-ld:Device:x/attrs", b"{}")
        info.wait_for_publish(10)
        assert info.is_published()


def test_a_limited_key_may_publish_only_to_its_own_entities(demo_db: Database) -> None:
    pipeline = Pipeline(demo_db, EventBus(), SystemClock(), "Asia/Ho_Chi_Minh")
    placed = [
        ("urn:ngsi-ld:WasteContainer:w7", WARD_7),
        ("urn:ngsi-ld:Streetlight:w7", WARD_7),
        ("urn:ngsi-ld:WasteContainer:w9", WARD_9),
    ]
    pipeline.ingest(
        [
            message(entity_id, {"location": {"type": "Point", "coordinates": list(point)}})
            for entity_id, point in placed
        ]
    )
    clock = SystemClock()
    with demo_db.write() as session:
        ward_7 = session.scalars(select(AdminUnit.id).where(AdminUnit.name == "Phường 7")).one()
        user = User(username="bins.p7", role=Role.INTEGRATION, created_at=clock.now())
        session.add(user)
        session.flush()
        session.add(UserScope(user_id=user.id, admin_unit_id=ward_7))
        limits = ApiKeyCreate(name="bins", entity_types=["WasteContainer"])
        create_api_key(session, SYSTEM, user.id, limits, clock)
        unlimited = ensure_integration_key(session, clock)
    assert unlimited is not None
    with demo_db.read() as session:
        logins = broker_logins(session, SYSTEM, "telemetry:write")
        accounts = {a.username: a for a in broker_accounts(session, logins, "t", None)}
    assert accounts[unlimited[:8]].write == ("dothi/v1/t/+/attrs",)
    bins = next(a for name, a in accounts.items() if name != unlimited[:8])
    assert bins.write == ("dothi/v1/t/urn:ngsi-ld:WasteContainer:w7/attrs",)
    assert bins.read == ("dothi/v1/t/urn:ngsi-ld:WasteContainer:w7/cmd",)
