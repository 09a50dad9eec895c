"""The camera health monitor against a camera on the loopback that answers RTSP DESCRIBE:
online while it answers, offline and alarmed within 60 seconds once its stream stops, online
and cleared when it comes back. On both backends."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import Policy
from dothi.alarms.models import Alarm, AlarmState
from dothi.cameras.health import Source, probe
from dothi.cameras.models import Health, HealthChange
from dothi.cameras.schemas import CameraIn
from dothi.cameras.service import save_camera
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from dothi.workers.camera_health import HealthMonitor

ZONE = "Asia/Ho_Chi_Minh"
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ROUND = timedelta(seconds=20)  # the monitor's interval


class RtspCamera:
    """Answers every RTSP request on the loopback with `status` until stopped."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        self.port: int = self.listener.getsockname()[1]
        self.status = status
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # stopped
            with connection:
                self.requests.append(connection.recv(4096).decode())
                answer = f"RTSP/1.0 {self.status} X\r\nCSeq: 1\r\nContent-Length: 0\r\n\r\n"
                connection.sendall(answer.encode())

    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/Streaming/Channels/101"

    def stop(self) -> None:
        self.listener.close()


@pytest.fixture
def rtsp() -> Iterator[RtspCamera]:
    camera = RtspCamera()
    yield camera
    camera.stop()


def _source(url: str, username: str | None = None, password: str | None = None) -> Source:
    return Source(uuid.uuid4(), "T", url, None, username, password)


def test_a_describe_carries_the_credentials_and_reads_the_status(rtsp: RtspCamera) -> None:
    assert probe(_source(rtsp.url(), "viewer", "pw")).good
    request = rtsp.requests[-1]
    assert request.startswith(f"DESCRIBE rtsp://127.0.0.1:{rtsp.port}/Streaming/Channels/101 ")
    assert "Authorization: Basic dmlld2VyOnB3" in request  # viewer:pw
    rtsp.status = 401
    refused = probe(_source(rtsp.url(), "viewer", "wrong"))
    assert refused.answered and not refused.good and refused.error == "answered 401"


def test_a_camera_that_does_not_answer_is_not_answered() -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # closed again: nobody listens there
    outcome = probe(_source(f"rtsp://127.0.0.1:{port}/live"), timeout=1)
    assert not outcome.answered and outcome.error is not None


def test_a_stopped_stream_is_offline_and_alarmed_within_a_minute(
    demo_db: Database, rtsp: RtspCamera
) -> None:
    clock, bus = FixedClock(START), EventBus()
    with demo_db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
        data = CameraIn(
            code="PN-GT-T1", name="Nút giao thử", lon=106.6795, lat=10.7990, stream_url=rtsp.url()
        )
        save_camera(session, SYSTEM, data, clock, ZONE)
    AlarmEngine(demo_db, bus, clock, Policy(), ZONE).attach()
    monitor = HealthMonitor(demo_db, Pipeline(demo_db, bus, clock, ZONE), clock)

    assert [c.health for c in monitor.round()] == [Health.ONLINE]
    rtsp.stop()
    stopped = clock.now()
    for _ in range(3):  # the first miss may be a lost packet; the second is not
        clock.advance(ROUND)
        if [c.health for c in monitor.round()] == [Health.OFFLINE]:
            break
    else:
        pytest.fail("the camera never went offline")
    with demo_db.read() as session:
        alarm = session.scalars(select(Alarm).where(Alarm.rule_code == "camera-offline")).one()
    assert alarm.state == AlarmState.ACTIVE
    assert alarm.entity_id == "urn:ngsi-ld:Camera:PN-GT-T1" and alarm.admin_unit_id is not None
    assert alarm.raised_at - stopped <= timedelta(seconds=60)

    back = RtspCamera(rtsp.port)
    try:
        clock.advance(ROUND)
        assert [c.health for c in monitor.round()] == [Health.ONLINE]
    finally:
        back.stop()
    with demo_db.read() as session:
        assert session.get(Alarm, alarm.id).state == AlarmState.CLEARED  # type: ignore[union-attr]
        changes = session.scalars(select(HealthChange.health).order_by(HealthChange.id)).all()
    assert changes == [Health.ONLINE, Health.OFFLINE, Health.ONLINE]
