"""The writer's queue in the web layer: cancelled requests must not keep the writer."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import cast

import anyio
from fastapi import Request
from sqlalchemy.orm import Session

from dothi.db.engine import Database
from dothi.web.deps import run_write


def _request(database: Database) -> Request:
    state = SimpleNamespace(
        database=database, write_gate=anyio.Lock() if database.is_sqlite else None
    )
    return cast(Request, SimpleNamespace(app=SimpleNamespace(state=state)))


def test_a_cancelled_write_still_finishes_and_releases_the_writer(db: Database) -> None:
    finished: list[bool] = []

    def slow(_session: Session) -> None:
        time.sleep(0.3)
        finished.append(True)

    async def cancelled_request() -> None:
        with anyio.move_on_after(0.05):
            await run_write(_request(db), slow)

    anyio.run(cancelled_request)
    assert finished == [True]  # the unit of work ran to its end, not abandoned half-way
    with db.try_write() as session:
        assert session is not None, "the writer stayed held after the cancelled request"
