"""Fixtures: settings, a migrated database on each backend, the web client.

Every test that asks for `database_url` (or what builds on it: `db`, `client`)
runs twice, on SQLite and on PostgreSQL. PostgreSQL comes from
DOTHI_TEST_DATABASE_URL (a superuser URL) or a throwaway cluster; where neither
is possible the PostgreSQL run skips, unless DOTHI_REQUIRE_SERVICES=1. Tests that
need an MQTT broker (`broker`) start Mosquitto the same way, or skip without it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from dothi.config import Settings
from dothi.db.engine import Database, make_engine
from dothi.db.migrate import upgrade
from dothi.web.app import create_app
from tests.mqtt import Broker, mosquitto_binary, running_broker
from tests.pg import pg_bindir, throwaway_cluster

REQUIRE_SERVICES = os.environ.get("DOTHI_REQUIRE_SERVICES") == "1"
_numbers = itertools.count()


def missing_service(why: str) -> None:
    """Skip a test whose server is missing, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"DOTHI_REQUIRE_SERVICES=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A superuser URL of a PostgreSQL server for this test session."""
    given = os.environ.get("DOTHI_TEST_DATABASE_URL")
    if given:
        yield given
        return
    bindir = pg_bindir()
    if bindir is None:
        missing_service("PostgreSQL is not installed (apt-get install postgresql-15-postgis-3)")
    assert bindir is not None
    with throwaway_cluster(bindir) as url:
        yield url


@pytest.fixture(scope="session")
def mosquitto() -> str:
    """The Mosquitto executable; tests that need a broker skip (or fail in CI) without it."""
    binary = mosquitto_binary()
    if binary is None:
        missing_service("Mosquitto is not installed (apt-get install mosquitto)")
    assert binary is not None
    return binary


@pytest.fixture
def broker(mosquitto: str, tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto of its own for the test, anonymous, with the shipped no-drop settings."""
    with running_broker(mosquitto, tmp_path / "broker") as running:
        yield running


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    """The name of a migrated template database; each test copies it."""
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    name = f"dothi_template_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(make_url(pg_admin_url).set(database=name).render_as_string(False))
    upgrade(engine)
    engine.dispose()
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def pg_database_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    """A freshly migrated, empty PostgreSQL database (for PostgreSQL-only tests)."""
    name = f"dothi_test_{os.getpid()}_{next(_numbers)}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "dothi.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(db: Database) -> Database:
    """The database with the bundled demo district (Phú Nhuận, 15 wards) loaded."""
    from dothi.places.datasets import load_bundled

    with db.write() as session:
        load_bundled(session, "phu-nhuan")
    return db


@pytest.fixture
def client(settings: Settings, demo_db: Database) -> Iterator[TestClient]:
    """The web app on the demo district, without a login."""
    with TestClient(create_app(settings, database=demo_db)) as test_client:
        yield test_client
