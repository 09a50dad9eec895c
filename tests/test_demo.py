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
from pathlib import Path
from typing import IO

import httpx
import pytest


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


def _password(lines: queue.Queue[str], deadline: float) -> str:
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        found = re.match(r"Admin password: (\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("dothi demo printed no admin password")


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
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Start `python -m dothi demo`; yield its base URL and the printed admin password."""
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
        password = _password(_lines(process.stdout), deadline)
        base = f"http://127.0.0.1:{port}"
        _wait_for_login_page(base, deadline)
        yield base, password
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_printed_password_logs_in(demo: tuple[str, str]) -> None:
    base, password = demo
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
