"""Dependencies shared by routes: settings, clock, database sessions, the report policy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.errors import DothiError
from dothi.reports.policy import ReportPolicy
from dothi.web.auth import Caller, identify_caller

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_report_policy(request: Request) -> ReportPolicy:
    """The deployment's report rules (working calendar, time to accept), built once per app."""
    policy: ReportPolicy | None = getattr(request.app.state, "report_policy", None)
    if policy is None:
        policy = ReportPolicy.from_settings(get_settings(request))
        request.app.state.report_policy = policy
    return policy


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A read-only unit of work for one request."""
    with database.read() as session:
        yield session


def _writer_queue(request: Request) -> AbstractAsyncContextManager[object]:
    """Where writers wait their turn without holding a thread.

    On SQLite, requests wait for the single writer on an async lock first, so a
    waiting request holds no worker thread: a crowd of writers cannot starve the
    one that holds the database of the threads it needs to finish. PostgreSQL
    takes concurrent writers: no queue there.
    """
    gate: anyio.Lock | None = request.app.state.write_gate
    return gate or nullcontext()


async def _shielded(function: Callable[..., T], *args: object) -> T:
    """Run `function` in a worker thread, to the end even if the request is cancelled.

    A cancelled request must still release the writer, or every later write of the
    process would wait for ever.
    """
    with anyio.CancelScope(shield=True):
        result = await run_in_threadpool(function, *args)
    return result  # noqa: RET504 (returning inside the scope reads to mypy as a fall-through)


async def write_session(
    request: Request, _caller: Annotated[Caller, Depends(identify_caller)]
) -> AsyncIterator[Session]:
    """A unit of work committed when the route returns without error.

    The caller is identified first, outside the writer's queue (a stranger's
    request does not hold the writer while their key is looked up). Declared with
    `scope="function"`: the commit happens before the response is sent, so a
    failed commit is an error answer, never a 200 for lost data.
    """
    async with _writer_queue(request):
        unit = get_database(request).write()
        session = await _shielded(unit.__enter__)
        try:
            yield session
        except BaseException as error:
            await _shielded(unit.__exit__, type(error), error, error.__traceback__)
            raise
        await _shielded(unit.__exit__, None, None, None)


async def run_write(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in its own committed unit of work, queued like `WriteSession`.

    For routes that do slow work first (a password check) and write only after it,
    so that the slow part does not hold the writer. One thread runs the unit from
    start to commit.
    """
    database = get_database(request)

    def unit_of_work() -> T:
        with database.write() as session:
            return work(session)

    return await run_queued(request, unit_of_work)


async def run_queued(request: Request, function: Callable[..., T], *args: object) -> T:
    """Run `function`, which opens its own units of work, in the writers' queue."""
    async with _writer_queue(request):
        return await _shielded(function, *args)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


def reject_nul(request: Request) -> None:
    """Refuse a NUL character anywhere in the URL (PostgreSQL cannot store one in text)."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        raise DothiError("The address contains a NUL character (%00).", status=400)
