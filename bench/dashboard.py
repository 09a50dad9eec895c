"""The operations dashboard's overview: its page and its data requests, timed at scale.

On SQLite (a temporary file) and on PostgreSQL (DOTHI_BENCH_DATABASE_URL, or a throwaway
cluster as the tests start one; skipped with a line when the binaries are missing), the
database is filled with the demo district's sensors (the simulator's layout, ~500
entities), 10 million observations every 5 minutes up to now with their hourly rollups
folded (the current hour left marked, as between two folds), 100,000 alarms (a few
hundred open) and 50,000 citizen reports over a year (the recent ones mostly open).
The data is made by the database itself (INSERT … SELECT over a series) or by driver
bulk inserts, never the ORM row by row.

The server (uvicorn, one process, the app as `dothi serve` builds it) runs in a child
process; an operator of the district asks, with an API key, for the overview page
`/dashboard` and the data requests the overview makes (overview, wards, five layers,
three charts, the queues and the open alarms of the live feed), with the demo's 400
cameras registered. Each request is timed after a warm-up (median of `ROUNDS`), one after
the other and all at once on 6 connections as a browser does; the client shares the
CPUs with the server. Target: the page and its data in under 1 s.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import httpx
import uvicorn
from shapely.geometry import shape
from sqlalchemy import create_engine, insert, make_url, select, text

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))  # the tests' cluster helper, reused as it is

from tests.pg import pg_bindir, throwaway_cluster  # noqa: E402

from audit_write import machine  # noqa: E402 (a sibling script: bench/ is on the path)
from dothi.accounts.apikeys import create_api_key  # noqa: E402
from dothi.accounts.directory import BUNDLED, import_directory  # noqa: E402
from dothi.accounts.models import OrgUnit, User, UserScope  # noqa: E402
from dothi.accounts.permissions import SYSTEM, Role  # noqa: E402
from dothi.accounts.schemas import ApiKeyCreate  # noqa: E402
from dothi.alarms.catalogue import ensure_rules  # noqa: E402
from dothi.alarms.io import default_rules  # noqa: E402
from dothi.alarms.models import Alarm, AlarmRule  # noqa: E402
from dothi.config import Settings  # noqa: E402
from dothi.core.clock import FixedClock  # noqa: E402
from dothi.db.engine import Database  # noqa: E402
from dothi.db.migrate import upgrade  # noqa: E402
from dothi.places.datasets import load_bundled as load_places  # noqa: E402
from dothi.places.models import AdminUnit  # noqa: E402
from dothi.reports.bundled import load_bundled as load_reports  # noqa: E402
from dothi.reports.models import Category, Report  # noqa: E402
from dothi.simulator.cameras import load_demo_cameras  # noqa: E402
from dothi.simulator.district import build_layout, load_roads, load_wards  # noqa: E402
from dothi.telemetry.models import Entity, EntityAttribute, RollupMark  # noqa: E402
from dothi.telemetry.partitions import ensure_months, month_of  # noqa: E402
from dothi.telemetry.rollups import fold_all  # noqa: E402
from dothi.telemetry.types import ENTITY_TYPES  # noqa: E402
from dothi.web.app import create_app  # noqa: E402

OBSERVATIONS = 10_000_000
ALARMS = 100_000
REPORTS = 50_000
STEP = timedelta(minutes=5)
ROUNDS = 5
CONNECTIONS = 6
TARGET = 1.0  # seconds
PAGE = "/dashboard"
DATA = (
    "/api/v1/dashboard/overview",
    "/api/v1/dashboard/wards",
    "/api/v1/dashboard/layers/sensors",
    "/api/v1/dashboard/layers/alarms",
    "/api/v1/dashboard/layers/reports",
    "/api/v1/dashboard/layers/cameras",
    "/api/v1/dashboard/layers/incidents",
    "/api/v1/dashboard/charts/aqi?hours=24",
    "/api/v1/dashboard/charts/flood?hours=24",
    "/api/v1/dashboard/charts/reports?days=30",
    "/api/v1/dashboard/queues",
    "/api/v1/alarms?limit=60",
)
OPEN_STATES = ("submitted", "accepted", "in_progress")
ROWS_PER_INSERT = 5_000


def _people(database: Database, now: datetime) -> tuple[str, str]:
    """Places, units, catalogues, rules and an operator of the district with an API key;
    the district's code and the key."""
    clock = FixedClock(now)
    with database.write() as session:
        load_places(session, "phu-nhuan")
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock)
        load_reports(session, clock)
        ensure_rules(session, default_rules(), SYSTEM, clock, "Asia/Ho_Chi_Minh")
        load_demo_cameras(session, clock, "Asia/Ho_Chi_Minh", "768")  # 400, with their health
        district = session.scalars(select(AdminUnit).where(AdminUnit.level == "district")).one()
        operator = User(username="operator", role=Role.OPERATOR, created_at=now)
        session.add(operator)
        session.flush()
        session.add(UserScope(user_id=operator.id, admin_unit_id=district.id))
        key = create_api_key(session, SYSTEM, operator.id, ApiKeyCreate(name="bench"), clock)
        return district.code, key.secret


def _sensors(database: Database, district: str, now: datetime) -> int:
    """The simulator's layout as entities with their numeric attributes; how many series."""
    with database.write() as session:
        wards = load_wards(session, district, now.date())
        ids = dict(session.execute(select(AdminUnit.code, AdminUnit.id)).all())
        layout = build_layout(wards, load_roads(), seed=1)
        entities = [
            {
                "id": s.entity_id,
                "type": s.type,
                "admin_unit_id": ids[s.ward],
                "lon": s.lon,
                "lat": s.lat,
                "properties": {"name": {"type": "Property", "value": s.name}},
                "created_by": "bench",
                "created_at": now,
                "modified_at": now,
            }
            for s in layout.sensors
        ]
        session.execute(insert(Entity), entities)
        series = [
            {"entity_id": s.entity_id, "name": spec.name, "unit_code": spec.unit_code}
            for s in layout.sensors
            for spec in ENTITY_TYPES[s.type].attributes
            if spec.kind == "number"
        ]
        session.execute(insert(EntityAttribute), series)
    return len(series)


def _observations(database: Database, series: int, now: datetime) -> datetime:
    """`OBSERVATIONS` values every 5 minutes up to now, made by the database; the first time."""
    steps = OBSERVATIONS // series
    end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    start = end - STEP * (steps - 1)
    value = "10 + ((a.id * 7 + n * 3) % 50)"
    with database.write() as session:
        if database.is_sqlite:
            session.execute(
                text(
                    "INSERT INTO observations (attribute_id, observed_at, number) "  # noqa: S608
                    "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s "
                    "WHERE n < :last) SELECT a.id, strftime('%Y-%m-%d %H:%M:%S', :start + n * 300,"
                    f" 'unixepoch') || '.000000', {value} FROM entity_attributes a CROSS JOIN s"
                ),
                {"last": steps - 1, "start": int(start.timestamp())},
            )
        else:
            months = {month_of(start + STEP * i) for i in range(0, steps, 288)} | {month_of(end)}
            ensure_months(session, months)
            session.execute(
                text(
                    "INSERT INTO observations (attribute_id, observed_at, number) "  # noqa: S608
                    "SELECT a.id, CAST(:start AS timestamptz) + n * interval '5 minutes', "
                    f"{value} FROM entity_attributes a CROSS JOIN generate_series(0, :last) n"
                ),
                {"last": steps - 1, "start": start},
            )
        # The latest values; one sensor in 20 went silent two hours ago.
        session.execute(
            text(
                "UPDATE entity_attributes SET number = 10 + ((id * 7 + :last * 3) % 50), "
                "observed_at = CASE WHEN id % 20 = 0 THEN :silent ELSE :end END"
            ),
            {"last": steps - 1, "end": end, "silent": end - timedelta(hours=2)},
        )
        hours = {(start + STEP * i).replace(minute=0) for i in range(0, steps, 12)} | {
            end.replace(minute=0)
        }
        session.execute(insert(RollupMark), [{"hour": hour} for hour in sorted(hours)])
    fold_all(database)
    with database.write() as session:  # the current hour waits for the next fold
        session.add(RollupMark(hour=end.replace(minute=0)))
    return start


def _alarms(database: Database, since: datetime, now: datetime, rng: Random) -> int:
    """`ALARMS` alarms on the sensors by their types' rules; at most one open per (rule,
    entity), for one sensor in ten; the number open."""
    with database.write() as session:
        rules = session.execute(
            select(AlarmRule.id, AlarmRule.code, AlarmRule.entity_type, AlarmRule.definition)
        ).all()
        entities = session.execute(
            select(Entity.id, Entity.type, Entity.admin_unit_id, Entity.lon, Entity.lat)
        ).all()
        by_type = {rule.entity_type: rule for rule in rules}
        placed = [(e, by_type[e.type]) for e in entities if e.type in by_type]
        span = (now - since).total_seconds()
        rows, opened = [], 0
        for number in range(ALARMS):
            entity, rule = placed[number % len(placed)]
            is_open = number < len(placed) and number % 10 == 0
            raised = now - timedelta(seconds=rng.random() * (3600 * 6 if is_open else span))
            opened += is_open
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "rule_id": rule.id,
                    "rule_code": rule.code,
                    "rule_name": rule.definition.get("name", rule.code),
                    "entity_id": entity.id,
                    "entity_type": entity.type,
                    "admin_unit_id": entity.admin_unit_id,
                    "lon": entity.lon,
                    "lat": entity.lat,
                    "severity": rng.choice(("warning", "warning", "critical")),
                    "state": rng.choice(("active", "acknowledged")) if is_open else "cleared",
                    "open_key": f"{rule.code}:{entity.id}" if is_open else None,
                    "value": rng.random() * 100,
                    "reason": "bench",
                    "raised_at": raised,
                    "updated_at": raised,
                    "cleared_at": None if is_open else raised + timedelta(minutes=30),
                }
            )
        for first in range(0, len(rows), ROWS_PER_INSERT):
            session.execute(insert(Alarm), rows[first : first + ROWS_PER_INSERT])
    return opened


def _reports(database: Database, now: datetime, rng: Random) -> int:
    """`REPORTS` reports spread evenly over the last year (~140 a day), in the wards, routed
    to the ward committees; 60 % of those of the last two weeks still open, 1 % of the
    older ones. The number open."""
    with database.write() as session:
        wards = session.execute(
            select(AdminUnit.id, AdminUnit.boundary).where(AdminUnit.level == "ward")
        ).all()
        inside = {ward.id: shape(ward.boundary).representative_point() for ward in wards}
        units = dict(session.execute(select(OrgUnit.admin_unit_id, OrgUnit.id)).all())
        categories = session.execute(select(Category.id, Category.code)).all()
        rows, opened = [], 0
        for number in range(REPORTS):
            ward = wards[number % len(wards)]
            point = inside[ward.id]
            created = now - timedelta(days=365 * number / REPORTS, seconds=rng.random() * 3600)
            recent = now - created < timedelta(days=14)
            state = rng.choice(OPEN_STATES) if rng.random() < (0.6 if recent else 0.01) else "fixed"
            opened += state != "fixed"
            category = categories[number % len(categories)]
            code = f"PB{number:08d}"
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "tracking_code": code,
                    "token_hash": "0" * 64,
                    "category_id": category.id,
                    "state": state,
                    "urgency": "normal",
                    "description": "bench",
                    "search_text": code.lower(),
                    "lon": point.x + rng.uniform(-0.0003, 0.0003),
                    "lat": point.y + rng.uniform(-0.0003, 0.0003),
                    "admin_unit_id": ward.id,
                    "org_unit_id": units.get(ward.id),
                    "attributes": {},
                    "source": "web",
                    "submitted_by": "bench",
                    "public": True,
                    "created_at": created,
                    "updated_at": created,
                    "accept_due_at": created + timedelta(days=1),
                    "due_at": created + timedelta(days=7),
                    "on_time": None if state != "fixed" else rng.random() < 0.85,
                    "closed_at": None if state != "fixed" else created + timedelta(days=3),
                }
            )
        for first in range(0, len(rows), ROWS_PER_INSERT):
            session.execute(insert(Report), rows[first : first + ROWS_PER_INSERT])
    return opened


def prepare(url: str) -> str:
    """Fill the database; print what it holds and how long that took; the API key."""
    started = time.perf_counter()
    database = Database(url)
    upgrade(database.engine)
    now = datetime.now(UTC)
    rng = Random(1)
    district, key = _people(database, now)
    series = _sensors(database, district, now)
    since = _observations(database, series, now)
    opened_alarms = _alarms(database, since, now, rng)
    opened_reports = _reports(database, now, rng)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
        counts = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608
            for table in ("entities", "observations", "observation_rollups", "alarms", "reports")
        }
    database.dispose()
    print(
        f"  data: {counts['entities']:,} entities ({series:,} series), "
        f"{counts['observations']:,} observations since {since:%Y-%m-%d %H:%M} UTC, "
        f"{counts['observation_rollups']:,} hourly rollups, {counts['alarms']:,} alarms "
        f"({opened_alarms:,} open), {counts['reports']:,} reports ({opened_reports:,} open); "
        f"built in {time.perf_counter() - started:.0f} s"
    )
    return key


def serve(url: str, port: int) -> None:
    """The app as `dothi serve` builds it, run by uvicorn (child process)."""
    app = create_app(Settings(database_url=url, secret_key="bench-only"))  # noqa: S106
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _timed(client: httpx.Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = client.get(path)
    return time.perf_counter() - started, answer.status_code


def measure(base: str, key: str) -> None:
    """Time the page and the data requests, one by one and all at once; print them."""
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        page = client.get(PAGE)
        paths = (PAGE, *DATA) if page.status_code == 200 else DATA
        if page.status_code != 200:
            print(f"  {PAGE} answers {page.status_code}: not there yet, the data requests only")
        for path in paths:  # warm-up
            assert client.get(path).status_code == 200, path
        times: dict[str, list[float]] = {path: [] for path in paths}
        for _ in range(ROUNDS):
            for path in paths:
                seconds, status = _timed(client, path)
                assert status == 200, (path, status)
                times[path].append(seconds)
    clients = [httpx.Client(base_url=base, headers=headers, timeout=60) for _ in paths]
    walls = []
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            list(pool.map(_timed, clients, paths))
            walls.append(time.perf_counter() - started)
    for client_ in clients:
        client_.close()
    medians = {path: statistics.median(found) for path, found in times.items()}
    for path, seconds in medians.items():
        print(f"  {path:<45} {seconds * 1000:7.1f} ms")
    total, wall = sum(medians.values()), statistics.median(walls)
    verdict = "under" if max(total, wall) < TARGET else "OVER"
    print(
        f"  total one after the other {total * 1000:7.1f} ms; all at once on {CONNECTIONS} "
        f"connections {wall * 1000:7.1f} ms ({verdict} the {TARGET:.0f} s target; median of "
        f"{ROUNDS}, client and server on the same CPUs)"
    )


def run(label: str, url: str) -> None:
    print(f"{label}:")
    key = prepare(url)
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, port))
    server.start()
    try:
        wait_for(f"http://127.0.0.1:{port}")
        measure(f"http://127.0.0.1:{port}", key)
    finally:
        server.terminate()
        server.join()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(base: str) -> None:
    for _ in range(400):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def pg_database(admin_url: str) -> str:
    """A fresh database `dothi_bench` on the server of `admin_url`."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "dothi_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "dothi_bench"'))
    admin.dispose()
    return make_url(admin_url).set(database="dothi_bench").render_as_string(False)


def main() -> None:
    print(f"machine: {machine()}; {os.cpu_count()} CPUs shared by the client and the server")
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
    given = os.environ.get("DOTHI_BENCH_DATABASE_URL")
    if given:
        run("PostgreSQL", pg_database(given))
        return
    bindir = pg_bindir()
    if bindir is None:
        print("PostgreSQL: skipped (no binaries; set DOTHI_BENCH_DATABASE_URL)")
        return
    with throwaway_cluster(bindir) as admin_url:
        run("PostgreSQL (throwaway cluster)", pg_database(admin_url))


if __name__ == "__main__":
    main()
