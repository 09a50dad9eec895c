"""The alarm feed as live views read it, and the wake-ups that tell them it has grown.

A reader (an SSE stream) remembers the last feed id it saw and reads again after it
when woken. A wake-up carries no data: a missed or doubled one costs a read, never an
event, and events come in commit order. Wake-ups come from this process's bus
(`ALARMS_CHANGED`) and from other processes: on PostgreSQL the NOTIFY each transition
sends on `FEED_CHANNEL`, heard on a dedicated LISTEN connection; on SQLite (several
`dothi serve` workers on one file) a look at the feed's newest id every `POLL_EVERY`.
"""

from __future__ import annotations

import asyncio
import select as io_select
import socket
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import psycopg
import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.accounts.units import in_scope
from dothi.alarms.lifecycle import ALARMS_CHANGED, FEED_CHANNEL
from dothi.alarms.models import AlarmFeedEntry
from dothi.alarms.schemas import SEVERITIES, Severity, rank
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import InvalidInput
from dothi.places.service import unit_ids_by_code

log = structlog.get_logger(__name__)

FeedKind = Literal[
    "raised", "reopened", "worse", "better", "acknowledged", "escalated", "reminded", "cleared"
]
"""The transitions the feed carries (`AlarmChange.kind`)."""
POLL_EVERY = 0.5
"""Seconds between looks at the newest feed id on SQLite, for other processes' alarms."""
PING_EVERY = 30.0
"""Seconds of silence after which the LISTEN connection is checked (finds a dead server)."""
FIRST_RETRY, LAST_RETRY = 0.5, 30.0
"""Seconds before connecting again after the LISTEN connection failed, doubling up to the last."""
CONNECT_TIMEOUT = 10
STOP_TIMEOUT = 2.0
LISTENER_NAME = "dothi alarm feed"
"""The LISTEN connection's `application_name`, as `pg_stat_activity` shows it."""


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What a reader asks of its area: some wards (none: all), a least severity, some kinds
    (none: all)."""

    ward_ids: frozenset[uuid.UUID] = frozenset()
    min_severity: Severity = "info"
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Entries read after a cursor; the cursor to read after next; whether more are waiting."""

    entries: list[AlarmFeedEntry]
    last_id: int
    more: bool


def feed_filter(
    session: Session,
    ward_codes: Collection[str],
    min_severity: Severity,
    kinds: Collection[FeedKind],
    day: date,
) -> FeedFilter:
    """A reader's filter; InvalidInput naming the ward codes no unit carries on `day`."""
    found = unit_ids_by_code(session, set(ward_codes), day)
    unknown = sorted(set(ward_codes) - set(found))
    if unknown:
        raise InvalidInput(f"ward: no ward has the code {', '.join(unknown)}.")
    return FeedFilter(frozenset(found.values()), min_severity, frozenset(kinds))


def newest_id(session: Session) -> int:
    """The id of the newest feed entry (0 while the feed is empty)."""
    return session.scalar(select(func.max(AlarmFeedEntry.id))) or 0


def start_after(session: Session, requested: int | None) -> int:
    """Where a new reader starts: after the id it gives, or now. Never past the newest entry:
    an id from another database (a restored backup) would wait for ever."""
    newest = newest_id(session)
    return newest if requested is None else min(requested, newest)


def entries_after(
    session: Session, actor: Principal, last_id: int, filters: FeedFilter, limit: int
) -> FeedPage:
    """The entries after `last_id` in the actor's area that the filter keeps, oldest first.

    The next cursor passes the entries the filter skipped: a reader of a quiet ward does
    not look at the busy ones' again on every read.
    """
    actor.require("alarms:read")
    newest = newest_id(session)
    place = AlarmFeedEntry.admin_unit_id
    query = (
        select(AlarmFeedEntry)
        .where(AlarmFeedEntry.id > last_id, AlarmFeedEntry.id <= newest, in_scope(place, actor))
        .order_by(AlarmFeedEntry.id)
        .limit(limit)
    )
    if filters.ward_ids:
        query = query.where(place.in_(filters.ward_ids))
    if filters.min_severity != "info":
        query = query.where(AlarmFeedEntry.severity.in_(SEVERITIES[rank(filters.min_severity) :]))
    if filters.kinds:
        query = query.where(AlarmFeedEntry.kind.in_(filters.kinds))
    entries = list(session.scalars(query))
    if len(entries) == limit:
        return FeedPage(entries, entries[-1].id, more=True)
    return FeedPage(entries, max(newest, last_id), more=False)


class FeedWaiter:
    """Wakes this process's streams waiting for the feed to grow; any thread may wake them.

    A stream takes a `mark()` before it reads the feed, then `wait(mark, …)`: a wake-up
    between the two is not lost, the wait returns at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wakeups = 0
        self._sleepers: dict[asyncio.Future[None], asyncio.AbstractEventLoop] = {}

    def attach(self, bus: EventBus) -> Callable[[], None]:
        """Wake on the alarm changes this process announces; returns the unsubscribe."""
        return bus.subscribe(ALARMS_CHANGED, lambda _changes: self.wake())

    @property
    def waiting(self) -> int:
        """How many streams wait now."""
        with self._lock:
            return len(self._sleepers)

    def mark(self) -> int:
        with self._lock:
            return self._wakeups

    def wake(self) -> None:
        with self._lock:
            self._wakeups += 1
            sleepers, self._sleepers = self._sleepers, {}
        for future, loop in sleepers.items():
            with suppress(RuntimeError):  # its loop has closed: nobody waits there any more
                loop.call_soon_threadsafe(_settle, future)

    async def wait(self, mark: int, timeout: float) -> bool:
        """Until a wake-up after `mark` (True) or for `timeout` seconds (False)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._wakeups != mark:
                return True
            self._sleepers[future] = loop
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._sleepers.pop(future, None)
        return True


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FeedWatcher:
    """A daemon thread waking `waiter` when another process adds to the feed."""

    def __init__(self, database: Database, waiter: FeedWaiter) -> None:
        self.database = database
        self.waiter = waiter
        self._stopping = threading.Event()
        self._bell, self._rope = socket.socketpair()  # the rope rings the bell: stop now
        watch = self._poll if database.is_sqlite else self._listen_forever
        self._thread = threading.Thread(target=watch, name="dothi-feed-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._rope.send(b"\0")
        self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():  # else still connecting: it stops after, on its own
            self._bell.close()
            self._rope.close()

    def _poll(self) -> None:
        """SQLite: wake when the newest id moved (a wake-up too many costs one read)."""
        seen = -1
        while not self._stopping.wait(POLL_EVERY):
            try:
                with self.database.read() as session:
                    newest = newest_id(session)
            except SQLAlchemyError:
                log.warning("alarm feed: could not read the newest id", exc_info=True)
                continue
            if newest != seen:
                self.waiter.wake()
                seen = newest

    def _listen_forever(self) -> None:
        """PostgreSQL: LISTEN on a connection of its own, connecting again after failures."""
        retry = FIRST_RETRY
        while not self._stopping.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {FEED_CHANNEL}")
                    retry = FIRST_RETRY
                    self._listen(connection)
            except psycopg.Error:
                log.warning(
                    "alarm feed: LISTEN failed; connecting again", after=retry, exc_info=True
                )
                self._stopping.wait(retry)
                retry = min(retry * 2, LAST_RETRY)

    def _connect(self) -> psycopg.Connection[Any]:
        """A connection to the app's database, as its engine makes them, but outside its pool."""
        engine = self.database.engine
        args, options = engine.dialect.create_connect_args(engine.url)
        named = {"connect_timeout": CONNECT_TIMEOUT, "application_name": LISTENER_NAME}
        return psycopg.connect(*args, **{**named, **options}, autocommit=True)

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        """Wake on each batch of notifications until stopped; raise when the connection fails."""
        self.waiter.wake()  # what was added while nobody listened is read now
        while not self._stopping.is_set():
            sources = [connection.fileno(), self._bell.fileno()]
            ready, _, _ = io_select.select(sources, [], [], PING_EVERY)
            if not ready:
                connection.execute("SELECT 1")  # notifications meanwhile wait in its backlog
            if sum(1 for _ in connection.notifies(timeout=0)):
                self.waiter.wake()


@contextmanager
def watching(database: Database, waiter: FeedWaiter) -> Iterator[FeedWatcher]:
    """Wake `waiter` for other processes' feed entries while the block runs."""
    watcher = FeedWatcher(database, waiter)
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.stop()
