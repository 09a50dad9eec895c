"""Subscriptions on both backends: matching, throttling, scope, and delivery to a real endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.telemetry.entities import Actor, change_attributes, create_entity
from dothi.telemetry.models import Subscription, SubscriptionNotification
from dothi.telemetry.notifications import MAX_ATTEMPTS, deliver_due
from dothi.telemetry.subscriptions import create_subscription
from dothi.workers.notifier import run_notifier
from tests.telemetry.helpers import NOW, WARD_7, integration_key, key_principal

STATION = "urn:ngsi-ld:AirQualityObserved:sub-1"


class _Endpoint(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    status = 204

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        """Quiet."""


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[_Endpoint]]]:
    handler = type("Handler", (_Endpoint,), {"received": [], "status": 204})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notify", handler
    server.shutdown()


def _subscribe(database: Database, actor: Actor, uri: str, **extra: Any) -> None:
    document = {
        "id": "urn:ngsi-ld:Subscription:s",
        "entities": [{"type": "AirQualityObserved", "idPattern": "sub-"}],
        "watchedAttributes": ["pm25"],
        "notification": {"endpoint": {"uri": uri}, "attributes": ["pm25"]},
        **extra,
    }
    with database.write() as session:
        create_subscription(session, actor.principal, document, actor.now)


def _reading(
    database: Database, actor: Actor, value: float, minutes: int, name: str = "pm25"
) -> None:
    at = (NOW - timedelta(minutes=60 - minutes)).isoformat()
    with database.write() as session:
        change_attributes(
            session, actor, STATION, {name: {"value": value, "observedAt": at}}, "append"
        )


def _setup(database: Database, uri: str, **extra: Any) -> Actor:
    actor = Actor(key_principal(database, integration_key(database)), NOW)
    station = {
        "id": STATION,
        "type": "AirQualityObserved",
        "location": {"type": "Point", "coordinates": list(WARD_7)},
    }
    with database.write() as session:
        create_entity(session, actor, station)
    _subscribe(database, actor, uri, **extra)
    return actor


def test_changes_are_delivered_once_in_normalized_form(
    demo_db: Database, endpoint: tuple[str, type[_Endpoint]]
) -> None:
    uri, handler = endpoint
    actor = _setup(demo_db, uri, q="pm25>30")
    _reading(demo_db, actor, 10, 1)  # q does not hold
    _reading(demo_db, actor, 45, 2)
    _reading(demo_db, actor, 0.5, 3, name="relativeHumidity")  # not watched
    clock = FixedClock(NOW)
    with httpx.Client() as client:
        assert deliver_due(demo_db, client, clock) == 1
        assert deliver_due(demo_db, client, clock) == 0
    [notification] = handler.received
    assert notification["type"] == "Notification"
    assert notification["subscriptionId"] == "urn:ngsi-ld:Subscription:s"
    [data] = notification["data"]
    assert data["id"] == STATION and data["pm25"]["value"] == 45 and "relativeHumidity" not in data
    with demo_db.read() as session:
        row = session.get(Subscription, "urn:ngsi-ld:Subscription:s")
        assert row is not None and row.times_sent == 1 and row.last_success_at is not None


def test_throttling_skips_changes_and_failures_are_retried_then_given_up(
    demo_db: Database, endpoint: tuple[str, type[_Endpoint]]
) -> None:
    uri, handler = endpoint
    handler.status = 500
    actor = _setup(demo_db, uri, throttling=600)
    _reading(demo_db, actor, 10, 1)
    _reading(demo_db, actor, 20, 2)  # within the throttling period: not notified
    clock = FixedClock(NOW)
    with httpx.Client() as client:
        for _ in range(MAX_ATTEMPTS):
            assert deliver_due(demo_db, client, clock) == 1
            clock.advance(timedelta(hours=2))  # past every backoff
        assert deliver_due(demo_db, client, clock) == 0
    assert len(handler.received) == MAX_ATTEMPTS
    with demo_db.read() as session:
        [outbox] = session.scalars(select(SubscriptionNotification))
        assert outbox.sent_at is None and outbox.last_error is not None
        assert outbox.last_error.startswith("HTTP 500")


def test_the_notifier_worker_delivers_until_stopped(
    demo_db: Database, endpoint: tuple[str, type[_Endpoint]]
) -> None:
    uri, handler = endpoint
    actor = _setup(demo_db, uri)
    _reading(demo_db, actor, 10, 1)
    stop = threading.Event()

    class _StopWhenDone(FixedClock):
        def now(self) -> Any:
            if handler.received:
                stop.set()
            return super().now()

    assert run_notifier(demo_db, _StopWhenDone(NOW), stop) >= 1
    assert len(handler.received) == 1
