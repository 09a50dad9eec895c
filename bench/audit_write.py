"""Audit entries written per second, against raw inserts into the same table in the same run.

Each audit entry reads the last link, hashes canonical JSON and inserts one row under the
chain lock; the limit is an executemany of precomputed rows into `audit_entries`. Both on a
temporary SQLite file (WAL, synchronous=NORMAL) and, when reachable, on PostgreSQL
(DOTHI_BENCH_DATABASE_URL, e.g. a throwaway cluster).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert

from dothi.accounts.audit import record, verify
from dothi.accounts.models import AuditEntry
from dothi.core.clock import SystemClock
from dothi.db.engine import Database
from dothi.db.migrate import upgrade

ENTRIES = 5_000
PER_TRANSACTION = (1, 100)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}"


def audited(database: Database, per_transaction: int) -> float:
    clock = SystemClock()
    started = time.perf_counter()
    for _ in range(ENTRIES // per_transaction):
        with database.write() as session:
            for _ in range(per_transaction):
                record(
                    session,
                    clock,
                    "bench",
                    "bench.write",
                    object_type="user",
                    object_id="u-1",
                    detail={"fields": ["phone"]},
                )
    return ENTRIES / (time.perf_counter() - started)


def raw(database: Database) -> float:
    now = datetime.now(UTC)
    rows = [
        {
            "id": 10_000_000 + i,
            "at": now,
            "actor": "bench",
            "action": "bench.raw",
            "object_type": "user",
            "object_id": "u-1",
            "admin_unit_id": None,
            "detail": {"fields": ["phone"]},
            "prev_hash": "0" * 64,
            "hash": f"{i:064x}",
        }
        for i in range(ENTRIES)
    ]
    started = time.perf_counter()
    with database.write() as session:
        session.execute(insert(AuditEntry), rows)
    rate = ENTRIES / (time.perf_counter() - started)
    with database.write() as session:
        session.execute(delete(AuditEntry))
    return rate


def run(label: str, url: str) -> None:
    database = Database(url)
    upgrade(database.engine)
    limit = raw(database)
    print(f"{label}: raw executemany into audit_entries (the limit): {limit:>10,.0f} rows/s")
    for per in PER_TRANSACTION:
        rate = audited(database, per)
        print(
            f"{label}: audit.record, {per:>3} per transaction: {rate:>10,.0f} entries/s "
            f"({rate / limit:.1%} of the limit)"
        )
    with database.read() as session:
        started = time.perf_counter()
        result = verify(session)
        seconds = time.perf_counter() - started
    assert result.ok and result.checked == ENTRIES * len(PER_TRANSACTION)
    database.dispose()
    print(f"{label}: verify walked the chain at {result.checked / seconds:,.0f} entries/s")


def main() -> None:
    print(f"machine: {machine()}; load generator and database share these CPUs")
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
    pg_url = os.environ.get("DOTHI_BENCH_DATABASE_URL")
    if pg_url:
        run("PostgreSQL", pg_url)


if __name__ == "__main__":
    main()
