"""The hash-chained audit log: appended in order, verified, and tampering is named."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from dothi.accounts import audit
from dothi.accounts.models import AuditEntry
from dothi.cli import app
from dothi.core.clock import FixedClock
from dothi.db.engine import Database


def _fill(db: Database, clock: FixedClock, count: int) -> None:
    with db.write() as session:
        for number in range(count):
            clock.advance(timedelta(seconds=1))
            audit.record(
                session,
                clock,
                "an",
                "user.update",
                object_type="user",
                object_id=f"u{number}",
                detail={"changed": ["role"], "n": number},
            )


def test_an_empty_log_verifies(db: Database) -> None:
    with db.read() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 0 and result.last_hash == audit.GENESIS


def test_entries_are_numbered_and_linked(db: Database, clock: FixedClock) -> None:
    _fill(db, clock, 3)
    with db.read() as session:
        rows = session.execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.prev_hash, AuditEntry.hash).order_by(
                AuditEntry.id
            )
        ).all()
        result = audit.verify(session)
    assert [row.id for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert rows[2].at == clock.now()
    assert result.ok and result.checked == 3 and result.last_hash == rows[2].hash


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE audit_entries SET actor = 'mallory' WHERE id = 3",
        """UPDATE audit_entries SET detail = '{"changed": ["phone"], "n": 2}' WHERE id = 3""",
    ],
)
def test_changing_a_row_names_that_row(db: Database, clock: FixedClock, change: str) -> None:
    _fill(db, clock, 5)
    with db.write() as session:
        session.execute(text(change))
    with db.read() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.broken_id == 3 and result.checked == 2
    assert result.reason is not None and result.reason.startswith("hash mismatch")


def test_a_deleted_row_is_a_gap(db: Database, clock: FixedClock) -> None:
    _fill(db, clock, 5)
    with db.write() as session:
        session.execute(text("DELETE FROM audit_entries WHERE id = 2"))
    with db.read() as session:
        result = audit.verify(session)
    assert result.broken_id == 3
    assert result.reason is not None and result.reason.startswith("gap")


def test_a_row_rewritten_with_a_valid_hash_breaks_the_next_link(
    db: Database, clock: FixedClock
) -> None:
    _fill(db, clock, 4)
    with db.write() as session:
        entry = session.get(AuditEntry, 2)
        assert entry is not None
        entry.actor = "mallory"
        entry.hash = audit.entry_hash(entry)
    with db.read() as session:
        result = audit.verify(session)
    assert result.broken_id == 3
    assert result.reason is not None and result.reason.startswith("prev_hash mismatch")


def test_verify_streams_a_long_chain(db: Database, clock: FixedClock) -> None:
    _fill(db, clock, 2500)
    with db.read() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 2500


def test_concurrent_writers_keep_one_chain(db: Database, clock: FixedClock) -> None:
    """Several threads, each committing many small transactions, never fork the chain."""
    writers, per_writer = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(name: str) -> None:
        try:
            start.wait()
            for number in range(per_writer):
                with db.write() as session:
                    audit.record(session, clock, name, "login.success", detail={"n": number})
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    with db.read() as session:
        result = audit.verify(session)
        actors = session.scalar(select(func.count(func.distinct(AuditEntry.actor))))
    assert result.ok and result.checked == writers * per_writer
    assert actors == writers


def test_chain_numbers_go_past_32_bits(db: Database, clock: FixedClock) -> None:
    far = 3_000_000_000
    with db.write() as session:
        audit.record(session, clock, "an", "user.update")
        session.execute(text("UPDATE audit_entries SET id = :far"), {"far": far})
    with db.write() as session:
        entry = audit.record(session, clock, "an", "user.update")
    assert entry.id == far + 1
    with db.read() as session:
        assert session.get(AuditEntry, far + 1) is not None


def test_verify_tells_whether_a_noted_head_is_still_in_the_chain(
    db: Database, clock: FixedClock
) -> None:
    _fill(db, clock, 4)
    with db.read() as session:
        noted = audit.verify(session).last_hash
    _fill(db, clock, 2)
    with db.read() as session:
        assert audit.verify(session, noted).head_found is True
    with db.write() as session:
        session.execute(text("DELETE FROM audit_entries WHERE id >= 4"))
    with db.read() as session:
        cut = audit.verify(session, noted)
        assert audit.verify(session).ok  # without the head, a cut-off end looks intact
    assert not cut.ok and cut.head_found is False and cut.checked == 3


def test_the_cli_prints_the_head_and_checks_a_noted_one(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    run = CliRunner(env={"DOTHI_DATABASE_URL": database_url})
    _fill(db, clock, 3)
    intact = run.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    with db.read() as session:
        head = audit.verify(session).last_hash
    assert "3 entries" in intact.output and head in intact.output
    assert run.invoke(app, ["audit", "verify", "--head", head]).exit_code == 0
    with db.write() as session:
        session.execute(text("DELETE FROM audit_entries WHERE id = 3"))
    cut = run.invoke(app, ["audit", "verify", "--head", head])
    assert cut.exit_code == 1
    assert "not in the chain" in cut.output and "2 entries" in cut.output
