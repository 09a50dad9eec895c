"""`dothi worker camera`: analyses the streams of the cameras it holds leases on.

Each held camera gets a thread that decodes its stream at the camera's analytics rate and
runs the detectors' pipeline; counts are sent every `report_seconds`, and every event at
once, as observations of `urn:ngsi-ld:Camera:<code>` through the ingest pipeline (and so
to the alarm rules). Snapshots, already redacted, go to a `SnapshotSink`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import structlog

from dothi.accounts.permissions import SYSTEM
from dothi.cameras.leases import claim, release, renew
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.detectors.events import Event
from dothi.detectors.settings import AnalyticsSettings
from dothi.telemetry.messages import Incoming
from dothi.workers.ingest import Handler

log = structlog.get_logger(__name__)

CAMERA_PRINCIPAL = replace(SYSTEM, username="camera-worker", provision=True)


class SnapshotSink(Protocol):
    def __call__(self, camera: str, event: Event) -> None:
        """Keep an event's (redacted) snapshot."""


@dataclass(frozen=True, slots=True)
class CameraOptions:
    """How one worker shares the cameras."""

    worker: str
    max_cameras: int = 4  # about what one core carries at 2 fps with a heavy detector
    lease: timedelta = timedelta(seconds=60)
    retry_seconds: float = 10.0  # before reopening a stream that failed


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a camera's thread needs, read from its row when it was claimed."""

    id: uuid.UUID
    code: str
    source: str
    settings: AnalyticsSettings


class CameraWorker:
    """Claims, renews and releases camera leases, one analysing thread per camera."""

    def __init__(
        self,
        database: Database,
        handler: Handler,
        options: CameraOptions,
        clock: Clock,
        snapshots: SnapshotSink | None = None,
    ) -> None:
        self._database = database
        self._handler = handler
        self._options = options
        self._clock = clock
        self._snapshots = snapshots
        self._send_lock = threading.Lock()
        self.running: dict[uuid.UUID, tuple[threading.Thread, threading.Event]] = {}

    def run(self, stop: threading.Event) -> None:
        """Hold and analyse cameras until `stop` is set; then release them."""
        try:
            while not stop.is_set():
                self.step()
                stop.wait(self._options.lease.total_seconds() / 3)
        finally:
            self.stop_all()

    def step(self) -> None:
        """Renew the leases held, drop the lost, claim more up to the limit."""
        options, now = self._options, self._clock.now()
        for camera_id in [k for k, (thread, _) in self.running.items() if not thread.is_alive()]:
            del self.running[camera_id]
        with self._database.write() as session:
            held = renew(session, options.worker, set(self.running), now, options.lease)
            fresh = claim(
                session, options.worker, now, options.lease, options.max_cameras - len(held)
            )
            assignments = [_assignment(camera) for camera in fresh]
        for camera_id in set(self.running) - held:
            log.warning("camera lease lost", camera_id=str(camera_id))
            self.running.pop(camera_id)[1].set()
        for assignment in assignments:
            quit_ = threading.Event()
            thread = threading.Thread(
                target=self._watch, args=(assignment, quit_), name=f"camera-{assignment.code}"
            )
            self.running[assignment.id] = (thread, quit_)
            thread.start()

    def stop_all(self) -> None:
        """Stop every camera thread and release the leases."""
        for thread, quit_ in self.running.values():
            quit_.set()
            thread.join()
        with self._database.write() as session:
            release(session, self._options.worker, set(self.running))
        self.running.clear()

    def _watch(self, camera: Assignment, quit_: threading.Event) -> None:
        """Analyse the camera's stream, reopening it after failures, until told to quit."""
        from dothi.detectors.pipeline import Analyzer  # OpenCV loads in the worker only
        from dothi.detectors.video import sample

        log.info("analysing camera", camera=camera.code)
        while not quit_.is_set():
            analyzer = Analyzer(camera.settings)
            started, report_at = self._clock.now(), time.monotonic()
            self._send(camera, {"status": "online"})
            s = camera.settings
            try:
                for item in sample(camera.source, s.fps, s.width, s.height):
                    for event in analyzer.process(item.frame, item.seconds, started):
                        self._event(camera, event)
                    if time.monotonic() - report_at >= s.report_seconds:
                        self._report(camera, analyzer)
                        report_at = time.monotonic()
                    if quit_.is_set():
                        return
            except Exception:  # a stream fails in many ways (network, codec): retry it
                log.exception("camera stream failed", camera=camera.code)
            self._report(camera, analyzer)
            self._send(camera, {"status": "offline"})
            quit_.wait(self._options.retry_seconds)

    def _event(self, camera: Assignment, event: Event) -> None:
        if event.kind != "line_crossing":  # crossings are reported as counts
            self._send(camera, {"eventType": event.kind})
        if self._snapshots is not None and event.snapshot is not None:
            self._snapshots(camera.code, event)

    def _report(self, camera: Assignment, analyzer: Any) -> None:
        report = analyzer.take_report()
        people = sum(n for (label, _), n in report.crossings.items() if label == "person")
        vehicles = sum(n for (label, _), n in report.crossings.items() if label == "vehicle")
        self._send(
            camera, {"peopleCount": people, "vehicleCount": vehicles, "crowding": report.crowding}
        )

    def _send(self, camera: Assignment, attributes: dict[str, Any]) -> None:
        message = Incoming(
            "camera",
            f"urn:ngsi-ld:Camera:{camera.code}",
            json.dumps(attributes).encode(),
            self._clock.now(),
            CAMERA_PRINCIPAL,
        )
        with self._send_lock:  # one writer: the camera threads take turns
            outcome = self._handler([message])
        if outcome.refused:
            log.warning("camera message refused", camera=camera.code, reason=outcome.refused[0][1])


def _assignment(camera: Any) -> Assignment:
    """The thread's copy of a claimed row (the row's session ends before the thread starts)."""
    return Assignment(
        camera.id,
        camera.code,
        with_credentials(camera.stream_url, camera.username, camera.password),
        AnalyticsSettings.model_validate(camera.analytics),
    )


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The stream URL with the camera's login in it (kept apart in the database)."""
    if not username:
        return url
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    login = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


class DirectorySnapshots:
    """Keeps snapshots as `<root>/<camera>/<time>-<event>.jpg` (UTC time)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, camera: str, event: Event) -> None:
        if event.snapshot is None:
            return
        folder = self.root / camera
        folder.mkdir(parents=True, exist_ok=True)
        stamp = event.at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        (folder / f"{stamp}-{event.kind}.jpg").write_bytes(event.snapshot)
