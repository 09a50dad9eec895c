"""Open311 POST /requests per second and its p99 at 50 concurrent clients, next to a bare
endpoint of the same server measured in the same run.

The server (uvicorn, one process) runs in a child process on a temporary SQLite file
(and on PostgreSQL when DOTHI_BENCH_DATABASE_URL is set) holding the demo district, its
units, the report catalogue and an integration key. Each POST authenticates the key,
places the point in its ward, routes it and writes the report and its first history row.
The bare endpoint answers a constant from the same app: the limit of the web stack.
Target: POST reaches at least 30 % of the bare rate.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from shapely.geometry import shape
from sqlalchemy import select

from audit_write import machine  # a sibling script: bench/ is on the path
from dothi.accounts.apikeys import create_api_key
from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.models import User
from dothi.accounts.permissions import SYSTEM, Role
from dothi.accounts.schemas import ApiKeyCreate
from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.db.migrate import upgrade
from dothi.places.datasets import load_bundled as load_places
from dothi.places.models import AdminUnit
from dothi.reports.bundled import load_bundled as load_reports
from dothi.web.app import create_app

CLIENTS = 50
SECONDS = 8.0  # per endpoint, in `ROUNDS` turns
ROUNDS = 4
TARGET = 0.30


def prepare(url: str) -> tuple[str, tuple[float, float]]:
    """The demo district with reports set up; an integration key and a point in Phường 9."""
    database = Database(url)
    upgrade(database.engine)
    clock = FixedClock(datetime.now(UTC))
    with database.write() as session:
        load_places(session, "phu-nhuan")
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock)
        load_reports(session, clock)
        portal = User(username="portal", role=Role.INTEGRATION, created_at=clock.now())
        session.add(portal)
        session.flush()
        key = create_api_key(session, SYSTEM, portal.id, ApiKeyCreate(name="bench"), clock)
        ward = session.scalars(select(AdminUnit).where(AdminUnit.name == "Phường 9")).one()
        point = shape(ward.boundary).representative_point()
    database.dispose()
    return key.secret, (float(point.x), float(point.y))


def serve(url: str, port: int) -> None:
    """The app with one extra route, `/bench/bare`, run by uvicorn (child process)."""
    app = create_app(Settings(database_url=url, secret_key="bench-only"))  # noqa: S106

    @app.get("/bench/bare")
    def bare() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def raw_request(method: str, path: str, form: dict[str, str] | None) -> bytes:
    """One HTTP/1.1 keep-alive request, encoded once and sent again and again."""
    body = urlencode(form).encode() if form else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
    if form:
        head += (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        )
    return (head + "\r\n").encode() + body


@dataclass
class Tally:
    """What the clients of one endpoint saw, over every round."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    failures: int = 0

    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def p99_ms(self) -> float:
        return sorted(self.latencies)[int(len(self.latencies) * 0.99) - 1] * 1000


async def load(port: int, request: bytes, tally: Tally, seconds: float) -> None:
    """`CLIENTS` clients sending `request` for `seconds`; what they saw goes to `tally`.

    A minimal client on asyncio streams, one connection per client: a general HTTP
    client library costs more CPU than the server under test, on the same machine.
    """
    stop = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            tally.latencies.append(time.perf_counter() - started)
            tally.failures += not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201"))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    tally.seconds += time.perf_counter() - started


def measure(port: int, requests: dict[str, bytes]) -> dict[str, Tally]:
    """Each request's tally over `ROUNDS` turns of `SECONDS / ROUNDS`, after a warm-up.

    The endpoints take turns, so that a machine whose speed drifts (shared CPUs) favours
    neither of them.
    """
    for request in requests.values():
        asyncio.run(load(port, request, Tally(), SECONDS / ROUNDS))
    tallies = {name: Tally() for name in requests}
    for _ in range(ROUNDS):
        for name, request in requests.items():
            asyncio.run(load(port, request, tallies[name], SECONDS / ROUNDS))
    return tallies


def wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the server did not start")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(label: str, url: str) -> None:
    key, (lon, lat) = prepare(url)
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, port))
    server.start()
    try:
        wait_for(port)
        form = {
            "api_key": key,
            "service_code": "trat-tu-do-thi",
            "lat": str(lat),
            "long": str(lon),
            "description": "Lấn chiếm vỉa hè",
            "phone": "0912345678",
        }
        requests = {
            "bare": raw_request("GET", "/bench/bare", None),
            "post": raw_request("POST", "/open311/v2/requests.json", form),
        }
        tallies = measure(port, requests)
    finally:
        server.terminate()
        server.join()
    bare, post = tallies["bare"], tallies["post"]
    print(
        f"{label}: bare endpoint (the limit):   {bare.rate():>8,.0f} req/s, "
        f"p99 {bare.p99_ms():>6.1f} ms"
    )
    print(
        f"{label}: POST /requests:              {post.rate():>8,.0f} req/s, "
        f"p99 {post.p99_ms():>6.1f} ms ({post.rate() / bare.rate():.0%} of the limit; "
        f"target >= {TARGET:.0%}; {post.failures} failed)"
    )


def main() -> None:
    print(f"machine: {machine()}; {CLIENTS} clients share the CPUs with the server")
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
    pg_url = os.environ.get("DOTHI_BENCH_DATABASE_URL")
    if pg_url:
        run("PostgreSQL", pg_url)


if __name__ == "__main__":
    main()
