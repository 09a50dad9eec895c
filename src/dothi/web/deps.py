"""Dependencies shared by routes: settings, clock, database sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.errors import DothiError

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A read-only unit of work for one request."""
    with database.read() as session:
        yield session


@asynccontextmanager
async def _writing(request: Request) -> AsyncIterator[Session]:
    """Queue for the writer without holding a thread, then run one unit of work.

    On SQLite, requests wait for the single writer on an async lock first, so a
    waiting request holds no worker thread: a crowd of writers cannot starve the
    one that holds the database of the threads it needs to finish. PostgreSQL
    takes concurrent writers: no queue there.
    """
    database = get_database(request)
    gate: AbstractAsyncContextManager[object] = request.app.state.write_gate or nullcontext()
    async with gate:
        unit = database.write()
        session = await run_in_threadpool(unit.__enter__)
        try:
            yield session
        except BaseException as error:
            await run_in_threadpool(unit.__exit__, type(error), error, error.__traceback__)
            raise
        await run_in_threadpool(unit.__exit__, None, None, None)


async def write_session(request: Request) -> AsyncIterator[Session]:
    """A unit of work committed when the route returns without error.

    Declared with `scope="function"`: the commit happens before the response is
    sent, so a failed commit is an error answer, never a 200 for lost data.
    """
    async with _writing(request) as session:
        yield session


async def run_write(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in its own committed unit of work, queued like `WriteSession`.

    For routes that do slow work first (a password check) and write only after it,
    so that the slow part does not hold the writer.
    """
    async with _writing(request) as session:
        return await run_in_threadpool(work, session)


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
