"""Browser tests in real Chromium (Debian's, no download): a live server and a browser page.

The server is uvicorn in a thread on a free port, serving the app on a real SQLite file.
Tests skip when Chromium is missing, unless DOTHI_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from tests.conftest import missing_service

CHROMIUM_NAMES = ("chromium", "chromium-browser")
START_WITHIN = 20.0  # seconds the server may take to start before the test fails


def chromium_path() -> str:
    """Debian's Chromium; a skip (or a failure in CI) when it is not installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name, path="/usr/bin:/usr/local/bin")
        if found:
            return found
    missing_service("Chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


def offline_district(sqlite_template: Path, folder: Path) -> tuple[Settings, Database]:
    """A real SQLite file of the demo district (no map tiles: the tests run offline)."""
    target = folder / "dothi.sqlite3"
    shutil.copy(sqlite_template, target)
    settings = Settings(
        database_url=f"sqlite:///{target}", secret_key="browser-test-key", map_tiles_url=""
    )
    database = Database.from_settings(settings)
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    return settings, database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free local port for the block; its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_WITHIN
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_WITHIN)
