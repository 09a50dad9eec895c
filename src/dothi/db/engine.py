"""Engines and sessions: SQLite in WAL mode with one writer, or PostgreSQL through psycopg 3.

Services never commit: the caller opens a unit of work with `Database.read()` or
`Database.write()`, and `write()` commits when the block ends without error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from dothi.config import Settings

_WRITE = "dothi_write"  # execution option: "wait" for the writer, or "try" and give up
BUSY_TIMEOUT_MS = 30_000


# Enough connections for every worker thread of the web server (anyio's 40) and then some.
POOL = {"pool_size": 10, "max_overflow": 50, "pool_timeout": 60}


def make_engine(url: str) -> Engine:
    """An engine for the URL, with SQLite tuned for one writer and many readers.

    Bound parameters are kept out of error messages: they may hold personal data
    or password hashes, and error messages end up in logs.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, **POOL)
    if url.rstrip("/").endswith(("sqlite:", ":memory:")):
        raise ValueError("an in-memory SQLite database cannot be shared: give a file path")
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True, **POOL
    )
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and explicit BEGIN (IMMEDIATE for writers, so they queue, not fail)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            # Checkpoint every ~40 MiB of log, not 4: a page rewritten by many ingest
            # batches reaches the database file once (commits took 3× less time).
            "wal_autocheckpoint=10000",
            "foreign_keys=ON",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_WRITE)
        if mode is None:
            connection.exec_driver_sql("BEGIN")
            return
        # A "try" writer must not wait for another process's writer either.
        timeout = 0 if mode == "try" else BUSY_TIMEOUT_MS
        connection.exec_driver_sql(f"PRAGMA busy_timeout={timeout}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The database of one deployment: an engine and its units of work."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(
            self.engine.execution_options(**{_WRITE: "wait"}), expire_on_commit=False
        )
        self._tryers = sessionmaker(
            self.engine.execution_options(**{_WRITE: "try"}), expire_on_commit=False
        )
        # SQLite allows one writer at a time: queue writers of this process here
        # instead of letting them spin on SQLITE_BUSY.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.database_url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it discards anything it changed.

        Objects read stay usable (detached, loaded) after the block.
        """
        with self._readers() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes are committed when the block succeeds."""
        lock: AbstractContextManager[Any] = self._write_lock or nullcontext()
        with lock, self._writers() as session, session.begin():
            yield session

    @contextmanager
    def try_write(self) -> Iterator[Session | None]:
        """Like `write()`, but never waits: None when this process's writer is busy.

        When another process holds the SQLite database, beginning fails at once
        (OperationalError) instead of waiting. For best-effort bookkeeping, e.g. an
        API key's "last used at", that must never hold up a request.
        """
        lock = self._write_lock
        if lock is not None and not lock.acquire(blocking=False):
            yield None
            return
        try:
            with self._tryers() as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        self.engine.dispose()
