"""GET /api/v1/stream: the alarm feed live, in Server-Sent Events, as clients read it.

A real server (uvicorn) on each backend, read with httpx streaming: Starlette's test
client waits for the whole response, and a stream does not end. Alarms come from flood
sensors in Phường 7 and 9, through the app's own pipeline or over HTTP into another
server process on the same database.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from dothi.accounts.apikeys import create_api_key
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import ApiKeyCreate
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.io import default_rules
from dothi.alarms.models import AlarmFeedEntry
from dothi.config import Settings
from dothi.core.clock import FixedClock, SystemClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from dothi.web.app import create_app
from tests.accounts.helpers import START, Town
from tests.alarms.test_feed import WAIT, ZONE, flood_reading, wait_until
from tests.telemetry.helpers import integration_key

PEOPLE = ("operator", "officer.p7", "officer.p9")
SENSOR_7 = "urn:ngsi-ld:FloodMonitoring:feed-7"


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    data: dict[str, Any]


def next_event(lines: Iterator[str]) -> Event:
    """The next event of a stream (comments and the retry hint are skipped)."""
    fields: dict[str, str] = {}
    end = time.monotonic() + WAIT  # heartbeats keep the connection busy: a deadline of its own
    for line in lines:
        assert time.monotonic() < end, "no event came"
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif "data" in fields:
            return Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
    raise AssertionError("the stream ended")


@contextmanager
def subscribed(base: str, key: str, **options: Any) -> Iterator[Iterator[str]]:
    """The lines of a stream, open (the cursor of a new client is set) once this yields."""
    headers = {"X-API-Key": key, **options.pop("headers", {})}
    with httpx.stream(
        "GET", f"{base}/api/v1/stream", params=options, headers=headers, timeout=WAIT
    ) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        yield answer.iter_lines()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a thread of this process; its base URL."""
    config = uvicorn.Config(
        app, port=_free_port(), log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until("the server", lambda: server.started)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(WAIT)


@pytest.fixture
def keys(demo_db: Database, town: Town) -> dict[str, str]:
    """An API key for each of the people (whose areas differ), and the default rules."""
    clock = FixedClock(START)
    with demo_db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
        return {
            name: create_api_key(
                session, SYSTEM, town.users[name], ApiKeyCreate(name="stream"), clock
            ).secret
            for name in PEOPLE
        }


@pytest.fixture
def live(
    settings: Settings, demo_db: Database, keys: dict[str, str]
) -> Iterator[tuple[str, FastAPI]]:
    app = create_app(settings, database=demo_db)
    with serving(app) as base:
        yield base, app


def water(app: FastAPI, ward: str, metres: float) -> None:
    """The flood sensor of `ward` reports now, through the app's pipeline."""
    pipeline: Pipeline = app.state.pipeline
    assert pipeline.ingest([flood_reading(ward, metres, FixedClock(datetime.now(UTC)))]).stored == 1


def test_a_ward_officer_receives_their_wards_alarms_and_no_other(
    live: tuple[str, FastAPI], keys: dict[str, str]
) -> None:
    base, app = live
    with (
        subscribed(base, keys["officer.p7"]) as ward_7,
        subscribed(base, keys["officer.p9"]) as ward_9,
    ):
        water(app, "Phường 9", 0.2)
        water(app, "Phường 7", 0.4)
        seven, nine = next_event(ward_7), next_event(ward_9)
    assert seven.name == "alarm" and seven.id == seven.data["feed_id"]
    assert (seven.data["entity"], seven.data["kind"], seven.data["severity"]) == (
        SENSOR_7,
        "raised",
        "critical",
    )
    assert seven.data["rule"] == "flood-level" and seven.data["state"] == "active"
    assert nine.data["entity"].endswith("feed-9") and nine.id < seven.id


def test_a_client_resuming_gets_exactly_what_it_missed(
    live: tuple[str, FastAPI], keys: dict[str, str], demo_db: Database
) -> None:
    base, app = live
    with subscribed(base, keys["operator"]) as first:
        water(app, "Phường 7", 0.2)
        seen = next_event(first)
    water(app, "Phường 7", 0.4)
    water(app, "Phường 9", 0.2)
    with demo_db.read() as session:
        feed = select(AlarmFeedEntry.id).where(AlarmFeedEntry.id > seen.id)
        missed_ids = list(session.scalars(feed.order_by(AlarmFeedEntry.id)))
    resumed = {"headers": {"Last-Event-ID": str(seen.id)}}
    with subscribed(base, keys["operator"], **resumed) as again:
        missed = [next_event(again), next_event(again)]
        water(app, "Phường 9", 0.0)
        after = next_event(again)
    assert [e.id for e in missed] == missed_ids
    assert [(e.data["entity"][-1], e.data["kind"]) for e in missed] == [
        ("7", "worse"),
        ("9", "raised"),
    ]
    assert after.data["kind"] == "cleared" and after.id > missed[-1].id  # then live, once
    with subscribed(base, keys["operator"], last_event_id=seen.id) as query_resumed:
        assert next_event(query_resumed).id == missed_ids[0]
    with subscribed(base, keys["operator"], since=0) as from_the_start:
        assert next_event(from_the_start).id == seen.id


def test_a_new_client_starts_now_and_the_filters_apply(
    live: tuple[str, FastAPI], keys: dict[str, str]
) -> None:
    base, app = live
    water(app, "Phường 9", 0.2)  # before the client: not sent
    wanted = {"ward": ["27049"], "kind": ["worse", "cleared"], "severity": "critical"}
    with subscribed(base, keys["operator"], **wanted) as stream:
        water(app, "Phường 7", 0.4)  # another ward
        water(app, "Phường 9", 0.4)  # worse, critical: the one sent
        event = next_event(stream)
    assert (event.data["entity"][-1], event.data["kind"]) == ("9", "worse")


def test_a_stream_stops_when_its_client_leaves(
    live: tuple[str, FastAPI], keys: dict[str, str]
) -> None:
    base, app = live
    with subscribed(base, keys["operator"]) as stream:
        assert next(stream) == "retry: 3000"
        wait_until("the stream to wait", lambda: app.state.feed.waiting == 1)
    wait_until("the stream to stop", lambda: app.state.feed.waiting == 0)


def test_invalid_parameters_are_refused_with_problem_details(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = {"X-API-Key": keys["operator"]}
    cases: list[tuple[dict[str, Any], dict[str, str], str]] = [
        ({"ward": ["27052", "99999"]}, {}, "99999"),
        ({"severity": "dire"}, {}, "severity"),
        ({"kind": "exploded"}, {}, "kind"),
        ({"since": -1}, {}, "since"),
        ({}, {"Last-Event-ID": "yesterday"}, "Last-Event-ID"),
    ]
    for params, extra, expected in cases:
        answer = client.get("/api/v1/stream", params=params, headers={**headers, **extra})
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert expected in answer.json()["detail"], answer.text
    assert client.get("/api/v1/stream").status_code == 401


# Two server processes on one database -------------------------------------------------------


@contextmanager
def server_process(database_url: str, folder: Path) -> Iterator[str]:
    """`uvicorn dothi.web.app:create_app_from_env` as a process of its own; its base URL."""
    port = _free_port()
    env = {**os.environ, "DOTHI_DATABASE_URL": database_url, "DOTHI_SECRET_KEY": "test-secret"}
    command = [sys.executable, "-m", "uvicorn", "dothi.web.app:create_app_from_env", "--factory"]
    options = ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "5"]
    process = subprocess.Popen([*command, *options], env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until("the server process", lambda: _answers(base))
        yield base
    finally:
        process.terminate()
        process.wait(WAIT)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_an_alarm_raised_by_one_process_reaches_a_client_of_another(
    settings: Settings, demo_db: Database, keys: dict[str, str], tmp_path: Path
) -> None:
    """On PostgreSQL through LISTEN/NOTIFY; on SQLite through the watcher's polling."""
    now = datetime.now(UTC)
    installed = flood_reading("Phường 7", 0.0, FixedClock(now - timedelta(minutes=1)))
    Pipeline(demo_db, EventBus(), SystemClock(), settings.timezone).ingest([installed])
    reading = {"entity": SENSOR_7, "attribute": "currentLevel", "value": 0.4}
    sensor_key = integration_key(demo_db)
    with (
        server_process(settings.database_url, tmp_path) as first,
        server_process(settings.database_url, tmp_path) as second,
        subscribed(second, keys["officer.p7"]) as stream,
    ):
        stored = httpx.post(
            f"{first}/api/v1/observations",
            content=json.dumps({**reading, "observedAt": now.isoformat()}),
            headers={"X-API-Key": sensor_key, "Content-Type": "application/x-ndjson"},
        )
        assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
        event = next_event(stream)
    assert (event.data["entity"], event.data["kind"]) == (SENSOR_7, "raised")
