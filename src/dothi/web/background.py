"""Work the web app does on a timer, beside the requests it answers."""

from __future__ import annotations

import anyio
import structlog
from sqlalchemy.exc import SQLAlchemyError

from dothi.alarms.engine import AlarmEngine
from dothi.alarms.lifecycle import Policy
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.incidents.timers import tick as tick_incidents
from dothi.telemetry.rollups import fold_all

FOLD_EVERY = 60.0
"""Seconds between foldings of the hours ingest marked into the hourly rollups."""
ALARM_TICK = 30.0
"""Seconds between judgements of no-data rules, escalations and reminders."""
INCIDENT_TICK = 30.0
"""Seconds between escalations of late SOP steps and directive reminders."""

log = structlog.get_logger(__name__)


async def fold_rollups_forever(database: Database, every: float = FOLD_EVERY) -> None:
    """Fold the marked hours every `every` seconds; a failure is logged and tried again.

    Readers are exact meanwhile (they aggregate marked hours from the observations):
    folding only makes long ranges cheap to read.
    """
    while True:
        await anyio.sleep(every)
        try:
            folded = await anyio.to_thread.run_sync(fold_all, database)
        except SQLAlchemyError:
            log.exception("folding the hourly rollups failed; trying again later")
        else:
            if folded:
                log.info("hourly rollups folded", marks=folded)


async def tick_alarms_forever(engine: AlarmEngine, every: float = ALARM_TICK) -> None:
    """Judge the timed rules and escalate every `every` seconds; a failure is logged."""
    while True:
        await anyio.sleep(every)
        try:
            await anyio.to_thread.run_sync(engine.tick)
        except SQLAlchemyError:
            log.exception("judging the timed alarm rules failed; trying again later")


async def tick_incidents_forever(
    database: Database, clock: Clock, policy: Policy, every: float = INCIDENT_TICK
) -> None:
    """Escalate late SOP steps and remind or mark overdue directives every `every` seconds."""
    while True:
        await anyio.sleep(every)
        try:
            await anyio.to_thread.run_sync(tick_incidents, database, clock, policy)
        except SQLAlchemyError:
            log.exception("escalating incidents and directives failed; trying again later")
