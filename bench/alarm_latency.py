"""Alarm latency: from a probe observation entering ingest to its alarm event on the live feed
(`GET /api/v1/stream`), while the pipeline carries 5,000 observations/s of background load.

The server runs as `dothi serve` does (uvicorn, one process, the garbage collector tuned) on
a temporary SQLite file and on a throwaway PostgreSQL cluster (as the tests start one;
skipped with a line when the binaries are missing), holding the demo district and the
default rules, whose threshold rule `flood-level` the probes cross (critical above 0.3 m).

- Background: 500 air-quality stations reporting 5 attributes, in batches of 200 messages
  five times a second (what `dothi worker ingest` collects in its 0.2 s), each deployment
  the way it runs: on SQLite (embedded: one process does everything) a load generator
  posts them as JSON lines to `/api/v1/observations` of the same server, and the probes
  queue behind them for the single writer; on PostgreSQL (production) an ingest worker,
  a process of its own with the pipeline and the rules as `dothi worker ingest` has them,
  stores them in the same database.
- Probes: the bench posts one reading of one of 10 flood sensors to the server's
  `/api/v1/observations`, alternately 0.5 m (the alarm is raised or reopened) and 0 m
  (cleared), and times it from the start of the request to the arrival of the transition
  on an SSE client of the server. On PostgreSQL a second server process on the same
  database streams too: its events cross processes through LISTEN/NOTIFY, as in a
  scale-out deployment.

Target: p99 < 250 ms on a 2-core machine. The servers, the load, the bench and the database
share the machine's CPUs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as StopEvent
from pathlib import Path

import httpx
import uvicorn
from shapely.geometry import shape
from sqlalchemy import create_engine, make_url, select, text

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the tests' throwaway PostgreSQL cluster, reused as it is

from tests.pg import pg_bindir, throwaway_cluster  # noqa: E402

from audit_write import machine  # noqa: E402 (a sibling script: bench/ is on the path)
from dothi.accounts.apikeys import create_api_key, ensure_integration_key  # noqa: E402
from dothi.accounts.models import User  # noqa: E402
from dothi.accounts.permissions import SYSTEM  # noqa: E402
from dothi.accounts.schemas import ApiKeyCreate  # noqa: E402
from dothi.accounts.service import ensure_admin  # noqa: E402
from dothi.alarms.catalogue import ensure_rules  # noqa: E402
from dothi.alarms.engine import AlarmEngine  # noqa: E402
from dothi.alarms.io import default_rules  # noqa: E402
from dothi.alarms.lifecycle import Policy  # noqa: E402
from dothi.config import Settings  # noqa: E402
from dothi.core.clock import SystemClock  # noqa: E402
from dothi.core.events import EventBus  # noqa: E402
from dothi.core.runtime import tune_garbage_collector  # noqa: E402
from dothi.db.engine import Database  # noqa: E402
from dothi.db.migrate import upgrade  # noqa: E402
from dothi.places.datasets import load_bundled  # noqa: E402
from dothi.places.models import AdminUnit  # noqa: E402
from dothi.telemetry.messages import Incoming  # noqa: E402
from dothi.telemetry.pipeline import Pipeline  # noqa: E402
from dothi.web.app import create_app  # noqa: E402
from reports import free_port, wait_for  # noqa: E402

RATE = 5_000  # background observations/s
ATTRIBUTES = ("pm25", "pm10", "no2", "temperature", "relativeHumidity")
STATIONS = 500
BATCH = 200  # messages
BATCH_EVERY = BATCH * len(ATTRIBUTES) / RATE  # seconds
SENSORS = 10
PROBES = 300
PROBE_GAP = (0.05, 0.25)  # seconds between probes, at random: no phase lock with the load
WARM_UP = 5.0  # seconds of background before the first probe
DEADLINE = 10.0  # seconds a probe's event may take before it counts as lost
TARGET_MS = 250.0
ZONE = "Asia/Ho_Chi_Minh"
PROVISIONER = replace(SYSTEM, username="bench", provision=True)
EXPECTED = {True: ("raised", "reopened"), False: ("cleared",)}
"""The transitions a probe causes: rising water raises (or reopens), falling clears."""


def station(number: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:bench-{number:03d}"


def sensor(number: int) -> str:
    return f"urn:ngsi-ld:FloodMonitoring:bench-{number:02d}"


@dataclass(frozen=True, slots=True)
class Keys:
    ingest: str  # the integration key, which may create entities
    reader: str  # the administrator's key, for the streams


def prepare(url: str) -> Keys:
    """The demo district, the default rules, two keys, and the stations and sensors placed."""
    database = Database(url)
    upgrade(database.engine)
    clock = SystemClock()
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
        ensure_admin(session, clock)
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
        ingest = ensure_integration_key(session, clock)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        reader = create_api_key(session, SYSTEM, admin.id, ApiKeyCreate(name="bench"), clock)
        wards = session.scalars(select(AdminUnit).where(AdminUnit.level == "ward")).all()
        points = [shape(ward.boundary).representative_point() for ward in wards]
    assert ingest is not None
    placed = [(station(n), points[n % len(points)]) for n in range(STATIONS)]
    placed += [(sensor(n), points[n % len(points)]) for n in range(SENSORS)]
    at = datetime.now(UTC) - timedelta(minutes=1)
    installed = [
        Incoming("bench", entity, _installation(entity, point.x, point.y, at), at, PROVISIONER)
        for entity, point in placed
    ]
    Pipeline(database, EventBus(), clock, ZONE).ingest(installed)
    database.dispose()
    return Keys(ingest, reader.secret)


def _installation(entity: str, lon: float, lat: float, at: datetime) -> bytes:
    """A first message placing the entity (water at 0 m for the sensors)."""
    first = {"currentLevel": 0.0} if "Flood" in entity else dict.fromkeys(ATTRIBUTES, 1.0)
    document: dict[str, object] = {
        name: {"value": value, "observedAt": at.isoformat()} for name, value in first.items()
    }
    document["location"] = {"type": "Point", "coordinates": [lon, lat]}
    return json.dumps(document).encode()


def serve(url: str, port: int) -> None:
    """`dothi serve` in a child process. Its shutdown cancels the streams still open after
    2 s, with an error line: the log shows critical errors only."""
    app = create_app(Settings(database_url=url, secret_key="bench-only"))  # noqa: S106
    tune_garbage_collector()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="critical",
        access_log=False,
        timeout_graceful_shutdown=2,
    )


def post_lines(client: httpx.Client, lines: list[str]) -> int:
    """Post JSON lines to the bulk endpoint; the readings stored."""
    answer = client.post(
        "/api/v1/observations",
        content="\n".join(lines),
        headers={"Content-Type": "application/x-ndjson"},
    )
    answer.raise_for_status()
    stored: int = answer.json()["stored"]
    return stored


def paced(stop: StopEvent, store: Callable[[list[str]], int]) -> float:
    """Hand `store` a batch of station reports every `BATCH_EVERY` until `stop`; the
    observations/s it stored."""
    stored, batches = 0, 0
    started = time.perf_counter()
    while not stop.is_set():
        time.sleep(max(0.0, started + batches * BATCH_EVERY - time.perf_counter()))
        at = datetime.now(UTC).isoformat()
        first = batches * BATCH
        stored += store([_report(station((first + n) % STATIONS), at) for n in range(BATCH)])
        batches += 1
    return stored / (time.perf_counter() - started)


def _report(entity: str, at: str) -> str:
    values = {"pm25": 18.0, "pm10": 35.0, "no2": 20.0, "temperature": 29.5}
    values["relativeHumidity"] = 0.7
    attrs = {name: {"value": value, "observedAt": at} for name, value in values.items()}
    return json.dumps({"entity": entity, "attrs": attrs}, separators=(",", ":"))


def posting(base: str, key: str, stop: StopEvent, results: multiprocessing.Queue[float]) -> None:
    """The embedded deployment's load (child process): batches posted to the server."""
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        results.put(paced(stop, lambda lines: post_lines(client, lines)))


def worker(url: str, stop: StopEvent, results: multiprocessing.Queue[float]) -> None:
    """Production's load (child process): an ingest worker's pipeline and rules."""
    database, bus, clock = Database(url), EventBus(), SystemClock()
    pipeline = Pipeline(database, bus, clock, ZONE)
    AlarmEngine(database, bus, clock, Policy(), ZONE).attach()
    tune_garbage_collector()

    def store(lines: list[str]) -> int:
        now = datetime.now(UTC)
        documents = [json.loads(line) for line in lines]
        batch = [
            Incoming("bench", d["entity"], json.dumps(d["attrs"]).encode(), now, PROVISIONER)
            for d in documents
        ]
        return pipeline.ingest(batch).stored

    results.put(paced(stop, store))
    database.dispose()


class Stream:
    """An SSE client on a thread of its own: (arrival, entity, kind) of each event."""

    def __init__(self, base: str, key: str) -> None:
        self.events: queue.Queue[tuple[float, str, str]] = queue.Queue()
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(base, key), daemon=True)
        self._thread.start()
        if not self._opened.wait(30):
            raise SystemExit(f"no stream from {base}")

    def _read(self, base: str, key: str) -> None:
        headers = {"X-API-Key": key}
        # Heartbeats come every 15 s: a read that waits a minute has lost the server.
        timeout = httpx.Timeout(10, read=60)
        with (
            suppress(httpx.RemoteProtocolError),  # the server stopped: the stream ends
            httpx.stream(
                "GET", f"{base}/api/v1/stream", headers=headers, timeout=timeout
            ) as answer,
        ):
            answer.raise_for_status()
            self._opened.set()
            for line in answer.iter_lines():
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    self.events.put((time.perf_counter(), data["entity"], data["kind"]))

    def arrival(self, entity: str, kinds: tuple[str, ...]) -> float | None:
        """When the event of `entity` with one of `kinds` arrived (None: not in time)."""
        end = time.perf_counter() + DEADLINE
        while (left := end - time.perf_counter()) > 0:
            try:
                at, got, kind = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == entity and kind in kinds:
                return at
        return None


@dataclass(slots=True)
class Timings:
    """Milliseconds from each probe's request: to its answer, and to its event on each stream."""

    answered: list[float]
    arrived: list[list[float]]


def probe(base: str, key: str, streams: list[Stream]) -> Timings:
    """Send the probes one after the other, each once the previous one's events came."""
    timings = Timings([], [[] for _ in streams])
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        for number in range(PROBES):
            entity, rising = sensor(number % SENSORS), (number // SENSORS) % 2 == 0
            line = {
                "entity": entity,
                "attribute": "currentLevel",
                "value": 0.5 if rising else 0.0,
                "observedAt": datetime.now(UTC).isoformat(),
            }
            sent = time.perf_counter()
            if post_lines(client, [json.dumps(line)]) != 1:
                raise SystemExit("a probe was not stored")
            timings.answered.append((time.perf_counter() - sent) * 1000)
            for stream, found in zip(streams, timings.arrived, strict=True):
                arrived = stream.arrival(entity, EXPECTED[rising])
                if arrived is not None:
                    found.append((arrived - sent) * 1000)
            time.sleep(random.uniform(*PROBE_GAP))
    return timings


@contextmanager
def servers(url: str, count: int) -> Iterator[list[str]]:
    """`count` server processes on the database; their base URLs."""
    ports = [free_port() for _ in range(count)]
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=serve, args=(url, port)) for port in ports]
    for process in processes:
        process.start()
    try:
        for port in ports:
            wait_for(port)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.join()


def run(label: str, url: str, *, embedded: bool) -> None:
    """Embedded: one server, the load posted to it. Production: two servers, an ingest worker."""
    keys = prepare(url)
    print(f"{label}: load average before the run {os.getloadavg()[0]:.1f}")
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    with servers(url, 1 if embedded else 2) as bases:
        streams = [Stream(base, keys.reader) for base in bases]
        target, args = (posting, (bases[0], keys.ingest)) if embedded else (worker, (url,))
        load = context.Process(target=target, args=(*args, stop, results))
        load.start()
        time.sleep(WARM_UP)
        timings = probe(bases[0], keys.ingest, streams)
        stop.set()
        rate: float = results.get(timeout=60)
        load.join()
    print(
        f"{label}: background ingest {rate:,.0f} observations/s (asked {RATE:,}); {PROBES} probes"
    )
    print(f"{label}: probe request answered (stored, rules judged): {spread(timings.answered)}")
    where = ["the same process", "another process (LISTEN/NOTIFY)"]
    for place, arrived in zip(where, timings.arrived, strict=False):
        verdict = "met" if percentile(arrived, 99) < TARGET_MS else "missed"
        lost = f"; {PROBES - len(arrived)} lost" if len(arrived) < PROBES else ""
        print(
            f"{label}: probe → SSE event on {place}: {spread(arrived)} "
            f"(target p99 < {TARGET_MS:.0f} ms: {verdict}{lost})"
        )


def percentile(values: list[float], rank: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[rank - 1]


def spread(values: list[float]) -> str:
    return ", ".join(f"p{rank} {percentile(values, rank):5.1f} ms" for rank in (50, 95, 99))


def fresh_database(admin_url: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "bench_alarm_latency"'))
        connection.execute(text('CREATE DATABASE "bench_alarm_latency"'))
    admin.dispose()
    return make_url(admin_url).set(database="bench_alarm_latency").render_as_string(False)


def main() -> None:
    print(f"machine: {machine()}; servers, load generator, bench and database share them")
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}", embedded=True)
    bindir = pg_bindir()
    if bindir is None:
        print("PostgreSQL: skipped, its binaries are missing (apt-get install postgresql-15)")
        return
    with throwaway_cluster(bindir) as admin_url:
        run("PostgreSQL", fresh_database(admin_url), embedded=False)


if __name__ == "__main__":
    main()
