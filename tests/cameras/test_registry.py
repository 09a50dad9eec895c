"""The demo district's cameras, the registry's rules, and the coverage of the main roads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dothi.accounts.permissions import SYSTEM
from dothi.cameras.coverage import View, road_coverage
from dothi.cameras.health import availability, set_health
from dothi.cameras.models import Health
from dothi.cameras.schemas import CameraIn
from dothi.cameras.service import (
    CameraQuery,
    camera_out,
    get_camera,
    list_cameras,
    list_recorders,
    road_coverage_of,
    save_camera,
)
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, NotFound
from dothi.places.service import get_unit
from dothi.simulator.cameras import load_demo_cameras
from tests.accounts.helpers import build_town, principal

ZONE = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DAY = NOW.date()


@pytest.fixture
def demo_cameras(demo_db: Database) -> Database:
    clock = FixedClock(NOW)
    build_town(demo_db, clock)
    with demo_db.write() as session:
        load_demo_cameras(session, clock, ZONE, "768")
    return demo_db


def test_the_demo_district_has_400_cameras_and_a_recorder_per_ward(demo_cameras: Database) -> None:
    with demo_cameras.read() as session:
        cameras = list_cameras(session, SYSTEM, CameraQuery(), DAY)
        recorders = list_recorders(session, SYSTEM)
        traffic = [c for c in cameras if "traffic" in c.purposes]
        assert len(cameras) == 400 and len(traffic) == 150
        assert len(recorders) == 15 and sum(r.cameras for r in recorders) == 400
        assert all(c.admin_unit_id is not None for c in cameras)
        assert sum(c.health == Health.ONLINE for c in cameras) > 360


def test_an_officer_sees_only_their_wards_cameras(demo_cameras: Database) -> None:
    officer = principal(demo_cameras, "officer.p2")
    with demo_cameras.read() as session:
        mine = list_cameras(session, officer, CameraQuery(), DAY)
        assert mine and {
            get_unit(session, c.admin_unit_id).name for c in mine if c.admin_unit_id
        } == {"Phường 2"}
        other = next(c for c in list_cameras(session, SYSTEM, CameraQuery(), DAY) if c not in mine)
        with pytest.raises(NotFound):
            get_camera(session, officer, other.code)


def test_an_officer_cannot_place_a_camera_in_another_ward(demo_cameras: Database) -> None:
    officer = principal(demo_cameras, "officer.p2")
    with demo_cameras.read() as session:
        elsewhere = next(
            c
            for c in list_cameras(session, SYSTEM, CameraQuery(), DAY)
            if get_unit(session, c.admin_unit_id).name != "Phường 2"  # type: ignore[arg-type]
        )
    data = CameraIn(code="NEW-1", name="Camera mới", lon=elsewhere.lon, lat=elsewhere.lat)
    with demo_cameras.write() as session, pytest.raises(Forbidden):
        save_camera(session, officer, data, FixedClock(NOW), ZONE)


def test_credentials_never_leave_the_registry(demo_cameras: Database) -> None:
    data = CameraIn.model_validate(
        {
            "code": "PN-X-1",
            "name": "Camera thử",
            "lon": 106.6795,
            "lat": 10.7990,
            "stream_url": "rtsp://10.0.0.5:554/Streaming/Channels/101",
            "username": "viewer",
            "password": "s3cret-Pa55",
        }
    )
    with demo_cameras.write() as session:
        camera, created = save_camera(session, SYSTEM, data, FixedClock(NOW), ZONE)
        answered = camera_out(session, camera).model_dump_json()
    assert created and "s3cret" not in answered and "10.0.0.5" not in answered
    assert '"has_stream":true' in answered


@pytest.mark.parametrize(
    ("field", "value"),
    [("lat", 91), ("heading", 360), ("field_of_view", 0), ("purposes", ["spy"]), ("code", "a b")],
)
def test_a_bad_camera_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        CameraIn.model_validate(
            {"code": "C1", "name": "x", "lon": 106.7, "lat": 10.8, field: value}
        )


def test_a_camera_looking_down_a_road_watches_its_range_of_it() -> None:
    road = [(106.680, 10.800), (106.690, 10.800)]  # about 1,094 m due east
    ward = {
        "type": "Polygon",
        "coordinates": [
            [[106.6, 10.7], [106.8, 10.7], [106.8, 10.9], [106.6, 10.9], [106.6, 10.7]]
        ],
    }
    east = View(106.680, 10.800, heading=90, field_of_view=40, range_m=100)
    north = View(106.685, 10.800, heading=0, field_of_view=40, range_m=100)
    coverage = road_coverage([east, north], [road], {"W": ward})
    assert coverage.total.length_m == pytest.approx(1094, rel=0.01)
    assert coverage.total.watched_m == pytest.approx(100, rel=0.02)  # the north one sees a point
    assert coverage.wards["W"].watched_m == pytest.approx(coverage.total.watched_m)


def test_the_demo_cameras_watch_part_of_the_main_roads_of_every_ward(
    demo_cameras: Database,
) -> None:
    with demo_cameras.read() as session:
        coverage = road_coverage_of(session, SYSTEM, DAY)
    assert 25_000 < coverage.total.length_m < 32_000  # the extract's 29 km, clipped to wards
    assert coverage.total.ratio is not None and 0.2 < coverage.total.ratio < 1
    assert len(coverage.wards) == 15
    assert all(share.watched_m <= share.length_m + 1e-6 for share in coverage.wards.values())


def test_availability_counts_the_minutes_online_in_the_period(demo_db: Database) -> None:
    clock = FixedClock(NOW)
    data = CameraIn(code="PN-A-1", name="Camera", lon=106.6795, lat=10.7990)
    with demo_db.write() as session:
        camera, _ = save_camera(session, SYSTEM, data, clock, ZONE)
        for minutes, health in ((-10, Health.ONLINE), (30, Health.OFFLINE), (45, Health.ONLINE)):
            set_health(camera, health, NOW + timedelta(minutes=minutes))
            session.flush()
    with demo_db.read() as session:
        found = availability(session, [camera.id], NOW, NOW + timedelta(hours=1))[camera.id]
    assert (found.online_minutes, found.expected_minutes) == (45, 60)
    assert found.ratio == 0.75
