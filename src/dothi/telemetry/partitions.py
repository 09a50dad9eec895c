"""Monthly partitions of `observations` on PostgreSQL, created before they are needed.

Every write path calls `ensure_months` with the months of its readings, so a
backfill into an old month and a reading just after midnight on the 1st both
find their partition. A process remembers what exists; the check is one query
per new month, and concurrent creators are serialised by an advisory lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy import event, text
from sqlalchemy.orm import Session

LOCK_KEY = 0x64_6F_74_68_69  # "dothi": serialises partition creation across processes
AHEAD = 2
"""Months after the current one to create in advance."""

_known: set[tuple[str, date]] = set()
_known_lock = threading.Lock()


@lru_cache(maxsize=65_536)  # the readings of a message share one time
def month_of(moment: datetime) -> date:
    """The first day of the UTC month of `moment`."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"observations_y{month.year:04d}m{month.month:02d}"


def ensure_months(session: Session, months: Iterable[date]) -> None:
    """Create the partitions of these months that do not exist yet (PostgreSQL only)."""
    engine = session.get_bind().engine
    if engine.dialect.name != "postgresql":
        return
    server = str(engine.url)
    with _known_lock:
        missing = sorted({m for m in months if (server, m) not in _known})
    if not missing:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    for month in missing:
        name = partition_name(month)
        session.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF observations "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') "
                f"TO ('{_next(month).isoformat()} 00:00+00')"
            )
        )

    def remember(_session: Session) -> None:  # only once committed: a rollback undoes the DDL
        with _known_lock:
            _known.update((server, month) for month in missing)

    event.listen(session, "after_commit", remember, once=True)


def ensure_ahead(session: Session, now: datetime) -> None:
    """Create this month's partition and the next `AHEAD` months'."""
    month = month_of(now)
    months = [month]
    for _ in range(AHEAD):
        month = _next(month)
        months.append(month)
    ensure_months(session, months)
