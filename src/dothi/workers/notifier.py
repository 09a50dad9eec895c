"""`dothi worker notifier`: deliver the outbox of NGSI-LD subscription notifications.

Notifications are written to the outbox in the transaction of the change that
caused them; this loop POSTs them to the subscribers' endpoints and retries
failures with exponential backoff (`notifications.deliver_due`). Several workers
may run: on PostgreSQL each claims different rows (SKIP LOCKED).
"""

from __future__ import annotations

import threading

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError

from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.telemetry.notifications import deliver_due

log = structlog.get_logger(__name__)

IDLE = 1.0
"""Seconds between looks at the outbox when it had nothing due."""


def run_notifier(
    database: Database, clock: Clock, stop: threading.Event, *, batch: int = 50
) -> int:
    """Deliver until `stop` is set; returns how many notifications were tried."""
    tried = 0
    with httpx.Client(follow_redirects=False) as client:
        while not stop.is_set():
            try:
                done = deliver_due(database, client, clock, batch=batch)
            except SQLAlchemyError:
                # The database is away (restart, failover): wait and try again.
                log.warning("notifier_database_error", exc_info=True)
                done = 0
            tried += done
            if done < batch:
                stop.wait(IDLE)
    log.info("notifier stopped", tried=tried)
    return tried
