"""The alarm feed as live views read it: by area and filter, in order, from a cursor; and the
wake-ups that reach waiting readers from this process and from others.

Alarms come from flood sensors in Phường 7 and Phường 9 reporting through the pipeline,
judged by the default rules (warning above 0.1 m, critical above 0.3 m).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.feed import (
    LISTENER_NAME,
    FeedFilter,
    FeedWaiter,
    entries_after,
    feed_filter,
    start_after,
    watching,
)
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import FEED_CHANNEL, Policy
from dothi.alarms.models import AlarmFeedEntry
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import InvalidInput
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline
from tests.accounts.helpers import START, build_town, principal
from tests.telemetry.helpers import NOW, WARD_7, WARD_9, message

ZONE = "Asia/Ho_Chi_Minh"
WARDS = {"Phường 7": WARD_7, "Phường 9": WARD_9}
WAIT = 30.0
"""Seconds a test waits for something to happen before it fails (not a speed test)."""


def flood_reading(ward: str, metres: float, clock: FixedClock | None = None) -> Incoming:
    """A water level from the flood sensor of `ward` (created at its first reading)."""
    at = (clock or FixedClock(NOW)).now()
    document = {
        "currentLevel": {"value": metres, "observedAt": at.isoformat()},
        "location": {"type": "Point", "coordinates": list(WARDS[ward])},
    }
    return message(f"urn:ngsi-ld:FloodMonitoring:feed-{ward.split()[-1]}", document, received_at=at)


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.02)


class Floods:
    """The two sensors reporting through a pipeline of their own, one minute apart."""

    def __init__(self, database: Database) -> None:
        self.clock = FixedClock(NOW)
        bus = EventBus()
        self.pipeline = Pipeline(database, bus, self.clock, ZONE)
        AlarmEngine(database, bus, self.clock, Policy(), ZONE).attach()
        with database.write() as session:
            ensure_rules(session, default_rules(), SYSTEM, self.clock, ZONE)

    def water(self, ward: str, metres: float) -> None:
        self.clock.advance(timedelta(minutes=1))
        assert self.pipeline.ingest([flood_reading(ward, metres, self.clock)]).stored == 1


@pytest.fixture
def floods(demo_db: Database) -> Floods:
    build_town(demo_db, FixedClock(START))
    return Floods(demo_db)


def _read(
    database: Database, username: str, after: int = 0, filters: FeedFilter | None = None
) -> list[AlarmFeedEntry]:
    with database.read() as session:
        page = entries_after(
            session, principal(database, username), after, filters or FeedFilter(), 100
        )
    return page.entries


def _story(entries: list[AlarmFeedEntry]) -> list[tuple[str, str, str]]:
    return [(e.document["entity"][-1], e.kind, e.severity) for e in entries]


def test_a_ward_officer_reads_only_their_wards_transitions(
    demo_db: Database, floods: Floods
) -> None:
    floods.water("Phường 9", 0.2)
    floods.water("Phường 7", 0.2)
    floods.water("Phường 7", 0.4)
    floods.water("Phường 9", 0.0)
    assert _story(_read(demo_db, "officer.p7")) == [
        ("7", "raised", "warning"),
        ("7", "worse", "critical"),
    ]
    assert _story(_read(demo_db, "officer.p9")) == [
        ("9", "raised", "warning"),
        ("9", "cleared", "warning"),
    ]
    assert _story(_read(demo_db, "operator")) == [  # the district's, in commit order
        ("9", "raised", "warning"),
        ("7", "raised", "warning"),
        ("7", "worse", "critical"),
        ("9", "cleared", "warning"),
    ]


def test_filters_keep_wards_severities_and_kinds(demo_db: Database, floods: Floods) -> None:
    for ward, metres in (
        ("Phường 9", 0.2),
        ("Phường 7", 0.2),
        ("Phường 7", 0.4),
        ("Phường 7", 0.0),
    ):
        floods.water(ward, metres)
    with demo_db.read() as session:
        ward_7 = feed_filter(session, ["27052"], "info", [], NOW.date())  # Phường 7's code
        critical = feed_filter(session, [], "critical", [], NOW.date())
        cleared = feed_filter(session, [], "info", ["cleared"], NOW.date())
        with pytest.raises(InvalidInput, match="99999"):
            feed_filter(session, ["27052", "99999"], "info", [], NOW.date())
    assert {e.document["entity"][-1] for e in _read(demo_db, "operator", filters=ward_7)} == {"7"}
    assert _story(_read(demo_db, "operator", filters=critical)) == [
        ("7", "worse", "critical"),
        ("7", "cleared", "critical"),  # a transition carries the alarm's severity
    ]
    assert _story(_read(demo_db, "operator", filters=cleared)) == [("7", "cleared", "critical")]


def test_reading_resumes_after_a_cursor_and_pages(demo_db: Database, floods: Floods) -> None:
    for metres in (0.2, 0.4, 0.2, 0.0):
        floods.water("Phường 7", metres)
    officer = principal(demo_db, "officer.p7")
    with demo_db.read() as session:
        first = entries_after(session, officer, 0, FeedFilter(), 3)
        rest = entries_after(session, officer, first.last_id, FeedFilter(), 3)
    assert first.more and len(first.entries) == 3
    assert not rest.more and [e.kind for e in rest.entries] == ["cleared"]
    assert rest.last_id == rest.entries[-1].id


def test_the_cursor_passes_what_the_filter_skipped(demo_db: Database, floods: Floods) -> None:
    floods.water("Phường 9", 0.2)
    floods.water("Phường 9", 0.4)
    with demo_db.read() as session:
        page = entries_after(session, principal(demo_db, "officer.p7"), 0, FeedFilter(), 100)
        newest = session.scalar(select(AlarmFeedEntry.id).order_by(AlarmFeedEntry.id.desc()))
    assert page.entries == [] and page.last_id == newest


def test_a_new_reader_starts_now_and_never_past_the_newest(
    demo_db: Database, floods: Floods
) -> None:
    floods.water("Phường 7", 0.2)
    floods.water("Phường 7", 0.4)
    with demo_db.read() as session:
        newest = start_after(session, None)
        assert start_after(session, 1) == 1
        assert start_after(session, newest + 1000) == newest
    assert _read(demo_db, "officer.p7", after=newest) == []
    assert len(_read(demo_db, "officer.p7", after=newest - 1)) == 1


# Wake-ups -------------------------------------------------------------------------------------


def test_a_wakeup_between_mark_and_wait_is_not_lost() -> None:
    waiter = FeedWaiter()

    async def scenario() -> tuple[bool, bool]:
        mark = waiter.mark()
        waiter.wake()  # while the stream was reading
        woken = await waiter.wait(mark, 60)
        quiet = await waiter.wait(waiter.mark(), 0.01)
        return woken, quiet

    assert asyncio.run(scenario()) == (True, False)


def test_a_wakeup_from_another_thread_reaches_the_waiting_loop() -> None:
    waiter = FeedWaiter()

    async def scenario() -> bool:
        mark = waiter.mark()
        threading.Timer(0.05, waiter.wake).start()
        return await waiter.wait(mark, WAIT)

    assert asyncio.run(scenario())


def test_alarm_changes_on_the_bus_wake_the_waiter(demo_db: Database) -> None:
    floods = Floods(demo_db)
    waiter = FeedWaiter()
    waiter.attach(floods.pipeline.bus)
    mark = waiter.mark()
    floods.water("Phường 7", 0.2)
    assert waiter.mark() > mark


def test_another_process_adding_to_the_feed_wakes_the_waiter(demo_db: Database) -> None:
    """Another engine (as another process has) raises an alarm: LISTEN or polling hears it."""
    waiter = FeedWaiter()
    with watching(demo_db, waiter):
        elsewhere = Database(demo_db.engine.url.render_as_string(hide_password=False))
        floods = Floods(elsewhere)
        wait_until("the watcher", lambda: waiter.mark() > 0)  # its first look wakes once
        mark = waiter.mark()
        floods.water("Phường 7", 0.2)
        wait_until("the wake-up", lambda: waiter.mark() > mark)
        elsewhere.dispose()


@pytest.mark.postgres
def test_the_listener_connects_again_after_losing_its_connection(pg_database_url: str) -> None:
    database = Database(pg_database_url)
    waiter = FeedWaiter()
    admin = create_engine(pg_database_url, isolation_level="AUTOCOMMIT")
    with watching(database, waiter), admin.connect() as connection:

        def listener() -> int | None:
            query = "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
            pid: int | None = connection.scalar(text(query), {"name": LISTENER_NAME})
            return pid

        wait_until("the listener", lambda: listener() is not None)
        lost = listener()
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
        wait_until("the listener again", lambda: listener() not in (None, lost))
        mark = waiter.mark()
        connection.execute(text("SELECT pg_notify(:channel, '1')"), {"channel": FEED_CHANNEL})
        wait_until("the wake-up", lambda: waiter.mark() > mark)
    admin.dispose()
    database.dispose()
