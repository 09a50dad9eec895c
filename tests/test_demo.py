"""`dothi demo` as a person runs it: a real process, a real port, the printed password."""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest

SECRETS = ("Admin password", "API key")
FRESH = timedelta(minutes=10)
"""Stations report every 5 minutes: the newest value of each is younger than this."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The lines of a stream, read by a thread, so that waiting for one can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _secrets(lines: queue.Queue[str], deadline: float) -> dict[str, str]:
    """The admin password and the API key the demo prints, by label."""
    found: dict[str, str] = {}
    while time.monotonic() < deadline and len(found) < len(SECRETS):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        match = re.match(r"(Admin password|API key): (\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    missing = [label for label in SECRETS if label not in found]
    assert not missing, f"dothi demo printed no {missing}"
    return found


def _wait_for_login_page(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the login page never answered")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Start `python -m dothi demo`; yield its base URL and the secrets it printed."""
    port = _free_port()
    # A guard against a hang, not a speed test (make bench and the README say how fast).
    deadline = time.monotonic() + 180
    process = subprocess.Popen(
        [sys.executable, "-m", "dothi", "demo", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        secrets = _secrets(_lines(process.stdout), deadline)
        base = f"http://127.0.0.1:{port}"
        _wait_for_login_page(base, deadline)
        yield base, secrets
    finally:
        process.terminate()
        # The simulator thread finishes its batch and the process exits on its own.
        process.wait(timeout=30)


def test_printed_password_logs_in(demo: tuple[str, dict[str, str]]) -> None:
    base, secrets = demo
    password = secrets["Admin password"]
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/login")
        assert form.status_code == 200
        assert "Đăng nhập" in form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        answer = browser.post(
            "/login",
            data={"username": "admin", "password": password, "csrf_token": token.group(1)},
        )
        assert answer.status_code == 303
        me = browser.get("/api/v1/users/me")
        assert me.status_code == 200
        assert me.json()["username"] == "admin"
        wards = browser.get("/api/v1/places", params={"level": "ward"}).json()
        assert len(wards["features"]) == 15


def _fresh_stations(base: str) -> list[str]:
    """Ids of the air-quality stations whose PM2.5 was observed in the last few minutes."""
    answer = httpx.get(
        f"{base}/ngsi-ld/v1/entities",
        params={"type": "AirQualityObserved", "limit": 100, "attrs": "pm25"},
    )
    assert answer.status_code == 200, answer.text
    now = datetime.now(UTC)
    return [
        station["id"]
        for station in answer.json()
        if now - datetime.fromisoformat(station["pm25"]["observedAt"]) < FRESH
    ]


def test_the_simulated_district_is_live(demo: tuple[str, dict[str, str]]) -> None:
    """The simulator's history is written in the background; then the 15 stations report."""
    base, secrets = demo
    assert len(secrets["API key"]) >= 40
    deadline = time.monotonic() + 180  # a guard against a hang, not a speed test
    fresh: list[str] = []
    while time.monotonic() < deadline:
        fresh = _fresh_stations(base)  # public context data: no key needed to read
        if len(fresh) == 15:
            break
        time.sleep(1)
    assert len(fresh) == 15, f"only {len(fresh)} stations with fresh values"
    assert all(station.startswith("urn:ngsi-ld:AirQualityObserved:pn-aq-") for station in fresh)
