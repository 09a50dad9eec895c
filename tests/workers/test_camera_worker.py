"""Camera workers share the cameras by leases, and report what they see as observations."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dothi.cameras.leases import claim, release, renew
from dothi.cameras.models import Camera
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.facts import latest_values
from dothi.telemetry.messages import BatchOutcome, Incoming
from dothi.telemetry.pipeline import Pipeline
from dothi.workers.camera import CameraOptions, CameraWorker, with_credentials
from tests.detectors.synthetic import Mover, write_video

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
ENABLED = {"enabled": True, "lines": [{"name": "gate", "a": [0.5, 0.0], "b": [0.5, 1.0]}]}


def _add_cameras(db: Database, analytics: list[dict[str, object]], url: str = "x.mp4") -> None:
    with db.write() as session:
        for number, settings in enumerate(analytics):
            session.add(
                Camera(
                    code=f"CAM-{number:03}",
                    name=f"Camera {number}",
                    lon=106.68,
                    lat=10.8,
                    heading=0.0,
                    field_of_view=90.0,
                    range_m=50.0,
                    purposes=["AI"],
                    stream_url=url,
                    analytics=settings,
                    created_at=NOW,
                )
            )


def _codes(cameras: Sequence[Camera]) -> set[str]:
    return {c.code for c in cameras}


def test_two_workers_never_hold_the_same_camera(db: Database) -> None:
    _add_cameras(db, [ENABLED, ENABLED, ENABLED, {}, {"enabled": False}])
    with db.write() as session:
        first = _codes(claim(session, "w1", NOW, LEASE, 2))
    with db.write() as session:
        second = _codes(claim(session, "w2", NOW, LEASE, 2))
    assert len(first) == 2 and len(second) == 1 and not first & second
    with db.write() as session:
        assert claim(session, "w3", NOW, LEASE, 5) == []
        ids = set(session.scalars(select(Camera.id).where(Camera.claimed_by == "w1")))
        assert renew(session, "w1", ids, NOW + timedelta(seconds=30), LEASE) == ids
    later = NOW + timedelta(seconds=80)  # w1 renewed to +90 s, w2's lease ended at +60 s
    with db.write() as session:
        assert _codes(claim(session, "w3", later, LEASE, 5)) == second
        assert (
            renew(session, "w2", {c.id for c in session.scalars(select(Camera))}, later, LEASE)
            == set()
        )
        release(session, "w1", ids)
    with db.write() as session:
        assert _codes(claim(session, "w3", later, LEASE, 5)) == first


@pytest.mark.postgres
def test_concurrent_claims_on_postgresql_skip_locked_cameras(pg_database_url: str) -> None:
    db = Database(pg_database_url)
    try:
        _add_cameras(db, [ENABLED, ENABLED, ENABLED])
        with db.write() as one, db.write() as two:  # two open transactions at once
            first = _codes(claim(one, "w1", NOW, LEASE, 2))
            second = _codes(claim(two, "w2", NOW, LEASE, 2))  # does not wait for `one`
        assert len(first) == 2 and len(second) == 1 and not first & second
    finally:
        db.dispose()


def test_credentials_go_into_the_stream_url() -> None:
    url = with_credentials("rtsp://10.0.0.5:554/live", "admin", "p@ss:1")
    assert url == "rtsp://admin:p%40ss%3A1@10.0.0.5:554/live"
    assert with_credentials("rtsp://h/live", None, None) == "rtsp://h/live"


def test_the_worker_analyses_a_claimed_camera_and_reports_counts(
    db: Database, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "cam.mp4", [Mover(((5, -40, 180), (40, 680, 180)))], 50)
    _add_cameras(db, [{**ENABLED, "detector": {"type": "vehicles"}}], url=str(video))
    sent: list[Incoming] = []
    done = threading.Event()
    pipeline = Pipeline(db, EventBus(), FixedClock(NOW), "Asia/Ho_Chi_Minh")

    def handler(messages: Sequence[Incoming]) -> BatchOutcome:
        sent.extend(messages)
        outcome = pipeline.ingest(messages)  # the real one: stored, or the test fails
        if any(b'"vehicleCount": 1' in m.payload for m in messages):
            done.set()
        return outcome

    options = CameraOptions(worker="w1", retry_seconds=30)
    worker = CameraWorker(db, handler, options, FixedClock(NOW))
    worker.step()
    assert done.wait(30)
    worker.stop_all()
    assert {m.entity_id for m in sent} == {"urn:ngsi-ld:Camera:CAM-000"}
    assert sent[0].payload == b'{"status": "online"}'
    with db.read() as session:
        assert session.scalars(select(Camera.claimed_by)).one() is None
        stored = latest_values(session, ["urn:ngsi-ld:Camera:CAM-000"], ["status", "vehicleCount"])
    assert stored[("urn:ngsi-ld:Camera:CAM-000", "status")][1] == "online"
    assert stored[("urn:ngsi-ld:Camera:CAM-000", "vehicleCount")][1] == 1
