"""The unit of work and the single writer, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from dothi.db.base import Base
from dothi.db.engine import Database
from dothi.db.migrate import current_revision, head_revision


class Note(Base):
    """A table that exists only in these tests."""

    __tablename__ = "test_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime]


@pytest.fixture
def notes_db(db: Database) -> Database:
    Note.__table__.create(db.engine)  # type: ignore[attr-defined]
    return db


def test_database_is_migrated_to_head(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()


def test_write_commits_and_read_rolls_back(notes_db: Database) -> None:
    moment = datetime(2026, 1, 1, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    with notes_db.write() as session:
        session.add(Note(id=1, body="kept", at=moment))
    with notes_db.read() as session:
        session.add(Note(id=2, body="dropped", at=moment))
        session.flush()
    with notes_db.read() as session:
        notes = session.scalars(select(Note)).all()
    assert [n.body for n in notes] == ["kept"]
    assert notes[0].at == moment and notes[0].at.tzinfo is not None
    assert notes[0].at.utcoffset() == UTC.utcoffset(None)


def test_failed_write_leaves_nothing(notes_db: Database) -> None:
    with pytest.raises(RuntimeError), notes_db.write() as session:
        session.add(Note(id=1, body="half", at=datetime.now(UTC)))
        session.flush()
        raise RuntimeError("boom")
    with notes_db.read() as session:
        assert session.scalars(select(Note)).all() == []


def test_naive_datetimes_are_refused(notes_db: Database) -> None:
    with pytest.raises(Exception, match="naive"), notes_db.write() as session:
        session.add(Note(id=1, body="naive", at=datetime(2026, 1, 1)))
        session.flush()


def test_concurrent_writers_all_land(notes_db: Database) -> None:
    """Eight threads, fifty read-modify-write transactions each: no lost update, no BUSY."""
    with notes_db.write() as session:
        session.add(Note(id=1, body="0", at=datetime.now(UTC)))

    def bump() -> None:
        for _ in range(50):
            with notes_db.write() as session:
                note = session.get_one(Note, 1, with_for_update=True)
                note.body = str(int(note.body) + 1)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with notes_db.read() as session:
        assert session.get_one(Note, 1).body == "400"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with database.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    database.dispose()


def test_try_write_gives_up_at_once_when_the_writer_is_busy(notes_db: Database) -> None:
    with notes_db.write() as busy:
        busy.add(Note(id=1, body="held", at=datetime.now(UTC)))
        busy.flush()
        if notes_db.is_sqlite:
            with notes_db.try_write() as session:
                assert session is None
    with notes_db.try_write() as session:
        assert session is not None
        session.add(Note(id=2, body="tried", at=datetime.now(UTC)))
    with notes_db.read() as session:
        assert {note.body for note in session.scalars(select(Note))} == {"held", "tried"}


def test_try_write_does_not_wait_for_another_process(tmp_path: Path) -> None:
    """Another connection (as another process would) holds SQLite's writer for a second.

    A writer that waited would get in after that second; `try_write` must fail instead.
    """
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    ours, theirs = Database(url), Database(url)
    Note.__table__.create(ours.engine)  # type: ignore[attr-defined]
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with theirs.write() as holder:
            holder.add(Note(id=1, body="theirs", at=datetime.now(UTC)))
            holder.flush()
            holding.set()
            release.wait(1)

    other = threading.Thread(target=hold)
    other.start()
    holding.wait()
    with pytest.raises(OperationalError, match="locked"), ours.try_write() as session:
        assert session is not None
        session.add(Note(id=2, body="ours", at=datetime.now(UTC)))
        session.flush()
    release.set()
    other.join()
    ours.dispose()
    theirs.dispose()
