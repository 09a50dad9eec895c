"""/api/v1/stream: the alarm feed as it commits, in Server-Sent Events.

Each transition the caller may see (their area; the wards, least severity and kinds
asked for) is one event: `id:` its feed id, `event: alarm`, `data:` the alarm after it
as JSON. A client reconnecting with `Last-Event-ID` (EventSource does) gets exactly
what it missed; a new one starts now, or after `since`. A stream holds no database
session between reads and at most one page of events in memory; it ends after
`LIFETIME` seconds and EventSource reconnects and resumes, so that a right withdrawn
meanwhile stops the feed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dothi.accounts.permissions import Principal
from dothi.alarms.feed import (
    FeedFilter,
    FeedKind,
    FeedWaiter,
    entries_after,
    feed_filter,
    start_after,
)
from dothi.alarms.models import AlarmFeedEntry
from dothi.alarms.schemas import Severity
from dothi.core.clock import local_date
from dothi.db.engine import Database
from dothi.web.auth import require
from dothi.web.deps import ClockDep, DatabaseDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["alarms"])

EVENT_STREAM = "text/event-stream"
HEARTBEAT = 15.0
"""Seconds of silence after which a comment is sent: proxies keep the connection open."""
RETRY_MS = 3000
"""How long EventSource waits before it reconnects."""
LIFETIME = 600.0
"""Seconds a stream lasts before the client reconnects (and is authenticated again)."""
PAGE = 100
"""Events read (and held) at once."""
MAX_WARDS = 50
WardCode = Annotated[str, Field(min_length=1, max_length=20)]
FeedId = Annotated[int, Field(ge=0, le=2**63 - 1)]
Chunk = tuple[str, int, bool]
"""Events as text, the cursor after them, whether more are waiting."""


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {EVENT_STREAM: {}}, "description": "Server-Sent Events"}},
)
async def stream(
    request: Request,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Annotated[Principal, require("alarms:read")],
    ward: Annotated[
        list[WardCode] | None, Query(max_length=MAX_WARDS, description="Ward codes (repeat)")
    ] = None,
    severity: Annotated[Severity, Query(description="The least severity sent")] = "info",
    kind: Annotated[list[FeedKind] | None, Query(description="Transitions sent (repeat)")] = None,
    resume: Annotated[FeedId | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[
        FeedId | None, Query(description="As the Last-Event-ID header, for clients without it")
    ] = None,
    since: Annotated[FeedId | None, Query(description="Start after this feed id, not now")] = None,
) -> StreamingResponse:
    """The alarm transitions of one's area as they commit; see docs/alarms.md, "Live feed"."""
    day = local_date(clock.now(), settings.timezone)
    cursor = next((given for given in (resume, last_event_id, since) if given is not None), None)

    def opening() -> tuple[FeedFilter, int]:
        with database.read() as session:
            filters = feed_filter(session, ward or (), severity, kind or (), day)
            return filters, start_after(session, cursor)

    filters, after = await run_in_threadpool(opening)
    waiter: FeedWaiter = request.app.state.feed
    events = _events(request, waiter, _reader(database, actor, filters), after)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # nginx: do not buffer
    return StreamingResponse(events, media_type=EVENT_STREAM, headers=headers)


def _reader(database: Database, actor: Principal, filters: FeedFilter) -> Callable[[int], Chunk]:
    """Reads a page after a cursor in a unit of work of its own (run in a worker thread)."""

    def read(cursor: int) -> Chunk:
        with database.read() as session:
            page = entries_after(session, actor, cursor, filters, PAGE)
        return "".join(map(_event, page.entries)), page.last_id, page.more

    return read


async def _events(
    request: Request, waiter: FeedWaiter, read: Callable[[int], Chunk], cursor: int
) -> AsyncIterator[str]:
    """The stream: what the feed holds after `cursor`, then whatever comes, until the end."""
    yield f"retry: {RETRY_MS}\n\n"
    started = spoke = time.monotonic()
    while time.monotonic() - started < LIFETIME and not await request.is_disconnected():
        mark = waiter.mark()  # before the read: a wake-up during it is not lost
        text, cursor, more = await anyio.to_thread.run_sync(read, cursor)
        if text:
            yield text
            spoke = time.monotonic()
        if not more:
            await waiter.wait(mark, spoke + HEARTBEAT - time.monotonic())
        if time.monotonic() - spoke >= HEARTBEAT:
            yield ": heartbeat\n\n"
            spoke = time.monotonic()


def _event(entry: AlarmFeedEntry) -> str:
    data = {**entry.document, "feed_id": entry.id, "kind": entry.kind, "at": entry.at.isoformat()}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {entry.id}\nevent: alarm\ndata: {text}\n\n"
