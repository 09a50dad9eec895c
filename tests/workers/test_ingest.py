"""`dothi worker ingest` on a real Mosquitto and real databases: exactly once, through kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text

from dothi.config import Settings
from dothi.connectors.mqtt import attrs_topic
from dothi.connectors.publisher import WindowedPublisher
from dothi.core.clock import SystemClock, as_utc
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.models import DeadLetter, EntityAttribute, Observation
from dothi.telemetry.pipeline import Pipeline
from dothi.workers.ingest import IngestOptions, IngestWorker
from tests.mqtt import Broker, wait_for

STATIONS = 10
ATTRIBUTES = ("pm25", "pm10", "temperature")
Key = tuple[str, str, datetime]
TERMINATE = text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n")


def _station(number: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:test-{number % STATIONS}"


def _message(number: int, start: datetime) -> tuple[str, bytes, list[Key]]:
    """Message `number` of the stream: topic, payload, and the observations it carries."""
    entity = _station(number)
    at = start + timedelta(seconds=number // STATIONS)
    stamp = at.isoformat().replace("+00:00", "Z")
    values = {name: {"value": 10.0 + number % 7, "observedAt": stamp} for name in ATTRIBUTES}
    keys = [(entity, name, at) for name in ATTRIBUTES]
    return attrs_topic("default", entity), json.dumps(values).encode(), keys


def _stored(db: Database) -> list[Key]:
    with db.read() as session:
        rows = session.execute(
            select(EntityAttribute.entity_id, EntityAttribute.name, Observation.observed_at).join(
                EntityAttribute, EntityAttribute.id == Observation.attribute_id
            )
        )
        return [(entity, name, as_utc(at)) for entity, name, at in rows]


def _count(db: Database, table: str) -> int:
    with db.read() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def _start_worker(database_url: str, broker: Broker, log: Path) -> subprocess.Popen[bytes]:
    """`dothi worker ingest` as its own process, ready once it logs its subscription."""
    env = {
        **os.environ,
        "DOTHI_DATABASE_URL": database_url,
        "DOTHI_MQTT_URL": broker.url(),
        "DOTHI_MQTT_TENANT": "default",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "dothi", "worker", "ingest", "--client-id", "ingest-1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        return "ingest worker subscribed" in log.read_text()

    wait_for("the worker to subscribe", ready)
    return process


def test_sigkill_mid_stream_loses_and_doubles_nothing(
    broker: Broker, database_url: str, db: Database, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    stream = [_message(number, start) for number in range(5000)]
    expected = sorted(key for _, _, keys in stream for key in keys)
    first = _start_worker(database_url, broker, tmp_path / "first.log")

    def publish() -> None:
        with WindowedPublisher(broker.address(), "stations", window=200) as publisher:
            for topic, payload, _ in stream:
                publisher.publish(topic, payload)
            assert publisher.flush(60)

    publisher = threading.Thread(target=publish)
    publisher.start()
    wait_for("the first batches", lambda: _count(db, "observations") > 0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stored_before_restart = _count(db, "observations")
    second = _start_worker(database_url, broker, tmp_path / "second.log")
    publisher.join()
    wait_for("every observation", lambda: _count(db, "observations") >= len(expected))

    assert stored_before_restart < len(expected), "the kill came after the stream"
    assert sorted(_stored(db)) == expected
    assert _count(db, "dead_letters") == 0
    second.send_signal(signal.SIGTERM)
    wait_for("the worker to stop", lambda: second.poll() is not None)
    assert second.returncode == 0
    assert "ingest worker stopped" in (tmp_path / "second.log").read_text()


@contextmanager
def _worker_thread(broker: Broker, database: Database) -> Iterator[IngestWorker]:
    """The worker in this process, on the real pipeline, until the block ends."""
    pipeline = Pipeline(database, EventBus(), SystemClock(), Settings().timezone)
    worker = IngestWorker(broker.address(), pipeline.ingest, IngestOptions(client_id="ingest-t"))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert worker.subscribed.wait(30)
        yield worker
    finally:
        stop.set()
        thread.join(30)


def test_a_malformed_payload_is_dead_lettered_next_to_a_stored_one(
    broker: Broker, db: Database
) -> None:
    good, bad = _station(1), _station(2)
    with (
        _worker_thread(broker, db) as worker,
        WindowedPublisher(broker.address(), "stations") as publisher,
    ):
        publisher.publish(attrs_topic("default", good), b'{"pm25": 12.5}')
        publisher.publish(attrs_topic("default", bad), b'{"pm25": 12.5')
        assert publisher.flush(10)
        wait_for("both messages", lambda: worker.totals.messages == 2)
    assert [(entity, name) for entity, name, _ in _stored(db)] == [(good, "pm25")]
    with db.read() as session:
        letter = session.scalars(select(DeadLetter)).one()
    assert (letter.entity_id, letter.payload, letter.source) == (bad, b'{"pm25": 12.5', "mqtt")
    assert letter.topic == attrs_topic("default", bad)
    assert "not JSON" in letter.reason


@pytest.mark.postgres
def test_nothing_is_lost_while_the_database_is_down(
    broker: Broker, pg_admin_url: str, pg_database_url: str
) -> None:
    name = make_url(pg_database_url).database
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    database = Database(pg_database_url)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    stream = [_message(number, start) for number in range(500)]
    try:
        with _worker_thread(broker, database) as worker:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                connection.execute(
                    TERMINATE,
                    {"n": name},
                )
            with WindowedPublisher(broker.address(), "stations") as publisher:
                for topic, payload, _ in stream:
                    publisher.publish(topic, payload)
                assert publisher.flush(30)
            wait_for("a failed batch", lambda: worker.totals.failures > 0)
            assert worker.totals.stored == 0
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            wait_for("every observation", lambda: worker.totals.stored == len(stream) * 3)
        assert _count(database, "observations") == len(stream) * len(ATTRIBUTES)
    finally:
        database.dispose()
        admin.dispose()
