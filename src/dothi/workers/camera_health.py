"""`dothi worker camera-health`: probe every active camera on a schedule, keep its health,
and tell the rest of the IOC through the ingest pipeline.

Each round probes the cameras in parallel (threads: a probe waits on the network), records
what changed in one transaction, then sends each change as the `status` of the camera's
NGSI-LD entity (`urn:ngsi-ld:Camera:<code>`) through the pipeline: the alarm rule
`camera-offline` raises and clears the offline alarm, and dashboards read it like any
sensor. With probes every 20 seconds a dead camera is offline and alarmed within 60.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from dothi.accounts.permissions import SYSTEM
from dothi.cameras.health import Probe, Source, judge, probe, source_of, status_message
from dothi.cameras.models import Camera
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline

log = structlog.get_logger(__name__)

INTERVAL = 20.0
"""Seconds between the starts of two rounds."""
PARALLEL = 32
"""Probes under way at once."""
MONITOR = replace(SYSTEM, username="camera-health", provision=True)


@dataclass(frozen=True, slots=True)
class Change:
    """A camera whose health changed in a round."""

    code: str
    health: str
    lon: float
    lat: float


class HealthMonitor:
    """Probes and records; `round` is one pass over the active cameras."""

    def __init__(
        self,
        database: Database,
        pipeline: Pipeline,
        clock: Clock,
        prober: Callable[[Source], Probe] = probe,
    ) -> None:
        self.database, self.pipeline, self.clock, self.prober = database, pipeline, clock, prober

    def round(self) -> list[Change]:
        """Probe every active camera once; the changes, already recorded and ingested."""
        with self.database.read() as session:
            sources = [source_of(c) for c in session.scalars(select(Camera).where(Camera.active))]
        with ThreadPoolExecutor(PARALLEL) as pool:
            outcomes = dict(zip(sources, pool.map(self.prober, sources), strict=True))
        changes = self._record(outcomes)
        if changes:
            self.pipeline.ingest(self._messages(changes))
        return changes

    def _record(self, outcomes: dict[Source, Probe]) -> list[Change]:
        now = self.clock.now()
        changes = []
        with self.database.write() as session:
            cameras = session.scalars(select(Camera).where(Camera.id.in_([s.id for s in outcomes])))
            by_id = {camera.id: camera for camera in cameras}
            for source, outcome in outcomes.items():
                camera = by_id.get(source.id)
                if camera is None:
                    continue  # removed meanwhile
                health = judge(camera, outcome, now)
                if health is not None:
                    changes.append(Change(camera.code, health, camera.lon, camera.lat))
        return changes

    def _messages(self, changes: Sequence[Change]) -> list[Incoming]:
        now = self.clock.now()
        return [
            Incoming(
                "camera-health",
                *status_message(change.code, change.health, change.lon, change.lat),
                now,
                MONITOR,
            )
            for change in changes
        ]


def run_monitor(monitor: HealthMonitor, stop: threading.Event, interval: float = INTERVAL) -> None:
    """Rounds every `interval` seconds until `stop` is set; a database failure waits a round."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            changes = monitor.round()
        except SQLAlchemyError:
            log.warning("camera_health_database_error", exc_info=True)
        else:
            if changes:
                log.info("camera health changed", changes=len(changes))
        stop.wait(max(interval - (time.monotonic() - started), 0.0))
