"""Telemetry ingest per second, each figure next to its limit measured in the same run.

On SQLite (a temporary file, WAL) and on PostgreSQL (a throwaway cluster, as the tests
start one; skipped with a line when the binaries are missing):
  (a) raw: the driver's bulk insert of the same rows into `observations` (SQLite
      executemany, PostgreSQL COPY), median of three runs: the limit of the pipeline;
  (b) pipeline: `Pipeline.ingest` of station-sized messages (9 attributes) in batches of
      the worker's size (and, for comparison, of 1,000), with the garbage-collector settings
      of `dothi worker ingest`;
  (e) folding: the hours (b) marked, folded into the hourly rollups as the server does it
      every minute, off the ingest path;
  (c) MQTT end to end: the windowed QoS 1 publisher → Mosquitto → `dothi worker ingest`
      (a real subprocess) → stored, until the database holds every observation;
  (d) broker: Mosquitto's own QoS 1 publish → subscribe rate with the same publisher and
      messages: the limit of (c).
Mosquitto runs from the shipped config with its no-drop settings (tests/mqtt.py).
The load generator, the broker, the worker and the database share the machine's CPUs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import create_engine, func, make_url, select, text

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the tests' broker and cluster helpers, reused as they are

from tests.mqtt import Broker, mosquitto_binary, running_broker  # noqa: E402
from tests.pg import pg_bindir, throwaway_cluster  # noqa: E402

from audit_write import machine  # noqa: E402 (a sibling script: bench/ is on the path)
from dothi.accounts.permissions import SYSTEM  # noqa: E402
from dothi.connectors.mqtt import attrs_filter, attrs_topic, connect, make_client  # noqa: E402
from dothi.connectors.publisher import WindowedPublisher  # noqa: E402
from dothi.core.clock import SystemClock  # noqa: E402
from dothi.core.events import EventBus  # noqa: E402
from dothi.core.runtime import tune_garbage_collector  # noqa: E402
from dothi.db.engine import Database  # noqa: E402
from dothi.db.migrate import upgrade  # noqa: E402
from dothi.telemetry.messages import Incoming  # noqa: E402
from dothi.telemetry.models import Observation  # noqa: E402
from dothi.telemetry.partitions import ensure_months, month_of  # noqa: E402
from dothi.telemetry.pipeline import Pipeline  # noqa: E402
from dothi.telemetry.rollups import fold_all  # noqa: E402
from dothi.workers.ingest import BATCH_SIZE  # noqa: E402

STATIONS = 500
MESSAGES = 40_000  # per measured phase: 80 reports of each station
SMALL_BATCH = 1000
ATTRIBUTES = ("pm25", "pm10", "no2", "so2", "o3", "co", "temperature", "relativeHumidity")
PER_MESSAGE = len(ATTRIBUTES) + 1  # and airQualityIndex
TENANT = "bench"
DEADLINE = 600.0  # seconds any wait may take before the bench gives up
PRINCIPAL = replace(SYSTEM, username="bench", provision=True)
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def station(number: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:bench-{number:04d}"


def payload(number: int, report: int) -> bytes:
    """A station's report: 9 attributes observed at one time (a new time per report)."""
    at = (START + timedelta(seconds=report * 60 + number % 60)).isoformat()
    values = {name: 10.0 + (number * 7 + report * 3 + i) % 50 for i, name in enumerate(ATTRIBUTES)}
    values["relativeHumidity"] = 0.5 + (report % 40) / 100
    values["airQualityIndex"] = 50 + report % 100
    document: dict[str, object] = {k: {"value": v, "observedAt": at} for k, v in values.items()}
    if report == 0:
        document["location"] = {"type": "Point", "coordinates": [106.68, 10.8]}
    return json.dumps(document, separators=(",", ":")).encode()


def reports(first: int, count: int) -> Iterator[tuple[str, bytes]]:
    """`count` messages from report number `first` on, station after station."""
    for index in range(count):
        report, number = divmod(index, STATIONS)
        yield station(number), payload(number, first + report)


WARM_UP = 1  # report 0 (it provisions the stations) is sent before the clock starts
MEASURED = list(reports(WARM_UP, MESSAGES))


def count_observations(database: Database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(Observation)) or 0


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.02)


# (a) the raw insert -------------------------------------------------------------------------


def raw_rows() -> list[tuple[int, datetime, float, None]]:
    """The rows the pipeline will write: one per attribute of each measured message."""
    return [
        (series, START + timedelta(seconds=report * 60 + number % 60), 10.0 + series % 50, None)
        for report in range(WARM_UP, WARM_UP + MESSAGES // STATIONS)
        for number in range(STATIONS)
        for series in range(number * PER_MESSAGE + 1, (number + 1) * PER_MESSAGE + 1)
    ]


def raw_insert(database: Database) -> float:
    """Rows/s of the driver's bulk insert into `observations`: the median of three runs
    (each removed after), the rows ready in the driver's form before the clock starts."""
    rows: list[tuple[int, datetime | str, float, None]] = [
        (
            s,
            at.replace(tzinfo=None).isoformat(" ", "microseconds") if database.is_sqlite else at,
            n,
            w,
        )
        for s, at, n, w in raw_rows()
    ]
    with database.write() as session:
        ensure_months(session, {month_of(START), month_of(datetime.now(UTC))})
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        with database.write() as session:
            connection = session.connection()
            if database.is_sqlite:
                connection.exec_driver_sql(
                    "INSERT INTO observations (attribute_id, observed_at, number, text) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
            else:
                cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                columns = "attribute_id, observed_at, number, text"
                with cursor.copy(f"COPY observations ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        rates.append(len(rows) / (time.perf_counter() - started))
        with database.write() as session:
            emptied = "DELETE FROM" if database.is_sqlite else "TRUNCATE"
            session.execute(text(f"{emptied} observations"))
    return statistics.median(rates)


# (b) the pipeline ---------------------------------------------------------------------------


def fold_rate(database: Database) -> float:
    """Observations/s folded into the hourly rollups: every hour the pipeline marked."""
    stored = count_observations(database)
    started = time.perf_counter()
    if not fold_all(database):
        raise SystemExit("the pipeline marked no hour to fold")
    return stored / (time.perf_counter() - started)


def pipeline_rate(database: Database, size: int) -> float:
    """Observations/s through `Pipeline.ingest`, batches of `size` messages."""
    pipeline = Pipeline(database, EventBus(), SystemClock(), "Asia/Ho_Chi_Minh")

    def batch(messages: list[tuple[str, bytes]]) -> list[Incoming]:
        now = datetime.now(UTC)
        return [Incoming("bench", e, p, now, PRINCIPAL) for e, p in messages]

    pipeline.ingest(batch(list(reports(0, STATIONS))))  # provisions the stations
    before = count_observations(database)
    started = time.perf_counter()
    for first in range(0, MESSAGES, size):
        pipeline.ingest(batch(MEASURED[first : first + size]))
    seconds = time.perf_counter() - started
    stored = count_observations(database) - before
    assert stored == MESSAGES * PER_MESSAGE, stored
    return stored / seconds


# (c) and (d): MQTT --------------------------------------------------------------------------


def publish(broker: Broker, messages: list[tuple[str, bytes]]) -> None:
    """Publish QoS 1 and wait until the broker has acknowledged every message."""
    with WindowedPublisher(broker.address(), f"bench-publisher-{time.monotonic_ns()}") as sender:
        for entity_id, body in messages:
            sender.publish(attrs_topic(TENANT, entity_id), body)
        if not sender.flush(DEADLINE) or sender.acknowledged != len(messages):
            raise SystemExit(f"the broker acknowledged {sender.acknowledged} of {len(messages)}")


@contextmanager
def ingest_worker(broker: Broker, url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DOTHI_DATABASE_URL": url,
        "DOTHI_MQTT_URL": broker.url(),
        "DOTHI_MQTT_TENANT": TENANT,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "dothi", "worker", "ingest", "--client-id", "bench-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def end_to_end(broker: Broker, database: Database, url: str) -> float:
    """Messages/s from the first publish until every observation is in the database."""
    with ingest_worker(broker, url):
        # The first report of each station provisions them. Until the worker has subscribed
        # the broker has no session for it and drops them: send again (stored once) until in.
        warm_up = list(reports(0, STATIONS))
        end = time.monotonic() + DEADLINE
        while count_observations(database) < STATIONS * PER_MESSAGE:
            if time.monotonic() > end:
                raise SystemExit("the ingest worker stored nothing")
            publish(broker, warm_up)
            time.sleep(1)
        total = (MESSAGES + STATIONS) * PER_MESSAGE
        started = time.perf_counter()
        publish(broker, MEASURED)
        wait_until("every observation", lambda: count_observations(database) >= total)
        seconds = time.perf_counter() - started
    assert count_observations(database) == total
    return MESSAGES / seconds


def broker_limit(broker: Broker) -> float:
    """Messages/s from the same publisher to a QoS 1 subscriber, every message counted."""
    received = 0
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, _message: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received == MESSAGES:
            done.set()

    subscriber = make_client(broker.address(), "bench-subscriber")
    subscriber.on_message = on_message
    connect(subscriber, broker.address())
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.subscribe(attrs_filter(TENANT), qos=1)
    if not subscribed.wait(30):
        raise SystemExit("the subscriber was not subscribed")
    started = time.perf_counter()
    publish(broker, MEASURED)
    if not done.wait(DEADLINE):
        raise SystemExit(f"the subscriber received {received} of {MESSAGES}")
    seconds = time.perf_counter() - started
    subscriber.disconnect()
    subscriber.loop_stop()
    return MESSAGES / seconds


# The run ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    raw: float
    pipeline: float
    small_batches: float = 0.0
    mqtt: float | None = None
    broker: float | None = None


def fresh(url: str) -> Database:
    database = Database(url)
    upgrade(database.engine)
    return database


def measure(label: str, urls: Iterator[str], mosquitto: str | None) -> Figures:
    database = fresh(next(urls))
    figures = Figures(raw_insert(database), 0.0)
    print(f"{label}: (a) raw bulk insert (the limit):  {figures.raw:>10,.0f} observations/s")
    figures.pipeline = pipeline_rate(database, BATCH_SIZE)
    print(
        f"{label}: (b) pipeline, {BATCH_SIZE:,} a batch:     {figures.pipeline:>10,.0f} "
        f"observations/s ({figures.pipeline / figures.raw:.0%} of (a); target 50 %)"
    )
    fold = fold_rate(database)
    print(
        f"{label}: (e) folding into hourly rollups:  {fold:>10,.0f} observations/s (off the path)"
    )
    database.dispose()
    database = fresh(next(urls))
    figures.small_batches = pipeline_rate(database, SMALL_BATCH)
    database.dispose()
    share = figures.small_batches / figures.raw
    print(
        f"{label}: (b) pipeline, {SMALL_BATCH:,} a batch:     "
        f"{figures.small_batches:>10,.0f} observations/s ({share:.0%} of (a); each station's "
        "entity, series and latest values then serve 2 messages, not 10)"
    )
    if mosquitto is None:
        print(f"{label}: (c), (d) skipped: Mosquitto is not installed (apt-get install mosquitto)")
        return figures
    with (
        tempfile.TemporaryDirectory() as folder,
        running_broker(mosquitto, Path(folder) / "broker") as broker,
    ):
        figures.broker = broker_limit(broker)
        url = next(urls)
        database = fresh(url)
        figures.mqtt = end_to_end(broker, database, url)
        database.dispose()
    print(
        f"{label}: (c) MQTT end to end:             {figures.mqtt:>10,.0f} messages/s = "
        f"{figures.mqtt * PER_MESSAGE:,.0f} observations/s "
        f"({figures.mqtt / figures.broker:.0%} of (d); target 50 %)"
    )
    print(f"{label}: (d) Mosquitto QoS 1 (the limit):   {figures.broker:>10,.0f} messages/s")
    return figures


def sqlite_urls(folder: Path) -> Iterator[str]:
    for number in range(3):
        yield f"sqlite:///{folder / f'bench-{number}.sqlite3'}"


def pg_urls(admin_url: str) -> Iterator[str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    for number in range(3):
        name = f"bench_ingest_{number}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(False)
    admin.dispose()


def table(results: dict[str, Figures]) -> None:
    print(
        f"\nbackend     raw obs/s   pipeline obs/s (÷raw)   at {SMALL_BATCH:,} (÷raw)"
        "   MQTT msg/s (÷broker)   broker msg/s"
    )
    for label, f in results.items():
        mqtt_cell = f"{f.mqtt:>9,.0f} ({f.mqtt / f.broker:4.0%})" if f.mqtt and f.broker else "—"
        broker_cell = f"{f.broker:,.0f}" if f.broker else "—"
        print(
            f"{label:<10} {f.raw:>10,.0f}   {f.pipeline:>10,.0f} ({f.pipeline / f.raw:4.0%})"
            f"   {f.small_batches:>9,.0f} ({f.small_batches / f.raw:4.0%})"
            f"       {mqtt_cell:>18}   {broker_cell:>12}"
        )


def main() -> None:
    tune_garbage_collector()  # as `dothi worker ingest` does
    print(f"machine: {machine()}; the load generator, broker, worker and database share them")
    print(f"{MESSAGES:,} messages of {PER_MESSAGE} attributes from {STATIONS} stations per phase")
    mosquitto = mosquitto_binary()
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure("SQLite", sqlite_urls(Path(folder)), mosquitto)
    bindir = pg_bindir()
    if bindir is None:
        print("PostgreSQL: skipped, its binaries are missing (apt-get install postgresql-15)")
    else:
        with throwaway_cluster(bindir) as admin_url:
            results["PostgreSQL"] = measure("PostgreSQL", pg_urls(admin_url), mosquitto)
    table(results)


if __name__ == "__main__":
    main()
