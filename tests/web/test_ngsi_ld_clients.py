"""Acceptance: the `ngsildclient` package from PyPI, unchanged, works against a real dothi server.

ngsildclient pins httpx 0.23 and rich 12, which our own environment cannot hold: it
lives in `.venv-clients` (`make test` builds it) and runs as a separate process
against uvicorn serving dothi on a free port, with a real SQLite database.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from dothi.telemetry.models import Entity, Observation
from dothi.web.app import create_app
from tests.conftest import missing_service
from tests.telemetry.helpers import WARD_7, integration_key

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PYTHON = ROOT / ".venv-clients" / "bin" / "python"
SCRIPT = ROOT / "tests" / "clients" / "ngsildclient_roundtrip.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[int, str, Database]]:
    """dothi on a free loopback port: its port, an integration key, its database."""
    target = tmp_path / "clients.sqlite3"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.write() as session:
        load_bundled(session, "phu-nhuan")
    secret = integration_key(database)
    port = _free_port()
    app = create_app(Settings(database_url=f"sqlite:///{target}"), database=database)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:  # uvicorn says when it listens
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield port, secret, database
    instance.should_exit = True
    thread.join()
    database.dispose()


def test_ngsildclient_creates_upserts_queries_and_reads_history(
    server: tuple[int, str, Database],
) -> None:
    if not CLIENT_PYTHON.exists():
        missing_service(f"{CLIENT_PYTHON} is missing: run `make test` (it builds .venv-clients)")
    port, secret, database = server
    arguments = [str(port), secret, str(WARD_7[0]), str(WARD_7[1])]
    run = subprocess.run(
        [str(CLIENT_PYTHON), str(SCRIPT), "127.0.0.1", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    marked = [line[2:] for line in run.stdout.splitlines() if line.startswith("> ")]
    lines = dict(line.split(" ", 1) for line in marked)
    ids = " ".join(f"urn:ngsi-ld:AirQualityObserved:pn-{n}" for n in (0, 1, 2, 3, 9))
    assert lines == {
        "created": "3 0",
        "single": "True",
        # NGSI-LD answers an upsert with the ids it created (pn-3), which ngsildclient counts.
        "upserted": "1 0",
        "queried": ids,
        "count": "3",
        "latest": "21.0",
        "history": "[11.0, 21.0]",
        "temporal": "5",
        "max": "[5.0, 20.0, 21.0, 22.0, 23.0]",
        "deleted": "1 0",
    }
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Entity)) == 4
        assert session.scalar(select(func.count()).select_from(Observation)) == 7
    assert sys.executable != str(CLIENT_PYTHON)  # the client ran in its own environment
