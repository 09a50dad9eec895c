"""`dothi worker notifier`: deliver the outboxes of NGSI-LD notifications and of alarms.

NGSI-LD notifications are written to their outbox in the transaction of the change
that caused them; alarm notifications are fanned out from the alarm feed into theirs
(`alarms.fanout`). This loop sends both, retrying failures with exponential backoff.
Several workers may run: on PostgreSQL each claims different rows (SKIP LOCKED) and
they fan out in turn.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError

from dothi.alarms import delivery, fanout
from dothi.alarms.channels import Mailer, parse_smtp_url, smtp_connector
from dothi.alarms.fanout import FanOutOptions
from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.errors import DothiError
from dothi.telemetry.notifications import deliver_due

log = structlog.get_logger(__name__)

IDLE = 1.0
"""Seconds between looks at the outboxes when they had nothing due."""


@dataclass(frozen=True, slots=True)
class AlarmNotifying:
    """How the notifier tells people and systems of alarms: e-mail only with a mailer."""

    fan_out: FanOutOptions
    mailer: Mailer | None = None
    batch: int = delivery.BATCH
    lease: timedelta = delivery.LEASE

    @classmethod
    def build(cls, *, zone: str, cap_sender: str, smtp_url: str, smtp_from: str) -> AlarmNotifying:
        """From the deployment's settings; an empty `smtp_url` turns e-mail off."""
        server = parse_smtp_url(smtp_url)
        mailer = Mailer(smtp_from, smtp_connector(server)) if server is not None else None
        return cls(FanOutOptions(zone, cap_sender, email=mailer is not None), mailer)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlarmNotifying:
        """`build` from `DOTHI_*` settings; a DothiError says what is wrong with them."""
        try:
            return cls.build(
                zone=settings.timezone,
                cap_sender=settings.cap_sender,
                smtp_url=settings.smtp_url,
                smtp_from=settings.smtp_from,
            )
        except ValueError as exc:
            raise DothiError(f"DOTHI_SMTP_URL: {exc}.") from exc


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did: notifications tried, and whether more may be waiting."""

    tried: int
    more: bool


def notify_alarms(
    database: Database, http: httpx.Client, clock: Clock, options: AlarmNotifying
) -> Round:
    """One round for alarms: new feed entries into the outbox, then what is due sent."""
    fanned = fanout.fan_out(database, clock, options.fan_out)
    tried = delivery.deliver_due(
        database, http, options.mailer, clock, batch=options.batch, lease=options.lease
    )
    return Round(tried, more=fanned >= fanout.BATCH or tried >= options.batch)


def run_notifier(
    database: Database,
    clock: Clock,
    stop: threading.Event,
    *,
    batch: int = 50,
    alarms: AlarmNotifying | None = None,
) -> int:
    """Deliver until `stop` is set (alarms too when given); returns how many were tried."""
    tried = 0
    with httpx.Client(follow_redirects=False) as client:
        while not stop.is_set():
            more = False
            try:
                done = deliver_due(database, client, clock, batch=batch)
                tried, more = tried + done, done >= batch
                if alarms is not None:
                    alarm_round = notify_alarms(database, client, clock, alarms)
                    tried, more = tried + alarm_round.tried, more or alarm_round.more
            except SQLAlchemyError:
                # The database is away (restart, failover): wait and try again.
                log.warning("notifier_database_error", exc_info=True)
            if not more:
                stop.wait(IDLE)
    log.info("notifier stopped", tried=tried)
    return tried
