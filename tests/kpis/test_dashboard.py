"""The dashboard's figures on a small district, and a ward officer's view of it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dothi.cameras.health import status_message
from dothi.core.clock import local_date
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.kpis import charts, dashboard
from dothi.kpis.area import Area, area_of
from dothi.kpis.search import search
from dothi.kpis.sensors import sensor_layer
from dothi.telemetry.pipeline import Pipeline
from tests.accounts.helpers import principal
from tests.kpis.helpers import AQI, FLOOD_P9, STATION_P9, Scene
from tests.telemetry.helpers import message

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _area(db: Database, scene: Scene, username: str, ward: str | None = None) -> Area:
    with db.read() as session:
        return area_of(
            session, principal(db, username), local_date(scene.clock.now(), ZONE.key), ward
        )


def test_the_overview_counts_the_district(demo_db: Database, scene: Scene) -> None:
    area = _area(demo_db, scene, "operator")
    assert (area.name, len(area.wards)) == ("Quận Phú Nhuận", 15)
    with demo_db.read() as session:
        found = dashboard.overview(session, area, scene.clock.now(), ZONE, 1)
    assert found.alarms.model_dump() == {
        "critical": 1,
        "warning": 1,
        "info": 0,
        "unacknowledged": 2,
    }
    assert (found.reports.open, found.reports.overdue, found.reports.on_time_rate) == (3, 1, None)
    assert found.sensors.model_dump() == {"total": 3, "online": 3, "online_rate": 1.0}
    assert found.aqi.now == AQI["Phường 9"]
    assert found.aqi.worst_ward is not None and found.aqi.worst_ward.name == "Phường 9"


def test_wards_layers_charts_and_queues_agree(demo_db: Database, scene: Scene) -> None:
    area = _area(demo_db, scene, "operator")
    now = scene.clock.now()
    with demo_db.read() as session:
        wards = {
            f.properties.name: f.properties for f in dashboard.ward_map(session, area, now).features
        }
        sensors = {f.properties.id: f.properties for f in sensor_layer(session, area, now).features}
        alarms = dashboard.alarm_layer(session, area).features
        reports = dashboard.report_layer(session, area, now).features
        aqi = charts.aqi_chart(session, area, now, 24, ZONE)
        flood = charts.flood_chart(session, area, now, 24, ZONE)
        per_day = charts.reports_chart(session, area, now, 31, ZONE)
        queues = dashboard.queues(session, principal(demo_db, "operator"), area, now)
    p9 = wards["Phường 9"]
    assert (p9.open_alarms, p9.critical_alarms, p9.open_reports, p9.overdue_reports) == (2, 1, 2, 1)
    assert (p9.aqi, wards["Phường 2"].aqi, wards["Phường 1"].aqi) == (164, 40, None)
    assert sensors[FLOOD_P9].state == "critical" and sensors[STATION_P9].state == "warning"
    assert sensors[STATION_P9].values == {"pm25": 100.0, "vnAqi": 164}
    assert sorted(f.properties.severity for f in alarms) == ["critical", "warning"]
    assert sum(f.properties.overdue for f in reports) == 1
    assert {s.name: s.points[-1][1] for s in aqi.series} == AQI and len(aqi.series[0].points) == 24
    assert flood.series[0].points[-1][1] == 40.0  # 0.4 m
    assert per_day.days[0].isoformat() == "2026-01-15" and per_day.series[0].counts[0] == 1
    assert sum(per_day.series[0].counts) == 3
    assert [a.severity for a in queues.top_alarms] == ["critical", "warning"]
    assert {u.unit: (u.open, u.overdue) for u in queues.units} == {
        "ubnd-p9": (2, 1),
        "ubnd-p2": (1, 0),
    }


def test_a_ward_officer_sees_only_their_ward(demo_db: Database, scene: Scene) -> None:
    area = _area(demo_db, scene, "officer.p2")
    now = scene.clock.now()
    assert (area.name, [w.name for w in area.wards]) == ("Phường 2", ["Phường 2"])
    with demo_db.read() as session:
        found = dashboard.overview(session, area, now, ZONE, 1)
        queues = dashboard.queues(session, principal(demo_db, "officer.p2"), area, now)
        alarms = dashboard.alarm_layer(session, area).features
        reports = dashboard.report_layer(session, area, now).features
        hits = search(session, area, scene.reports["Phường 9"][0], 10, now)
    assert found.alarms.critical == found.alarms.warning == 0 and alarms == []
    assert [f.properties.code for f in reports] == scene.reports["Phường 2"]
    assert found.aqi.now == AQI["Phường 2"]
    assert [u.unit for u in queues.units] == ["ubnd-p2"] and queues.top_alarms == []
    assert hits == []


def test_a_ward_outside_the_scope_or_unknown_is_refused(demo_db: Database, scene: Scene) -> None:
    assert _area(demo_db, scene, "operator", "27049").name == "Phường 9"
    with pytest.raises(Forbidden):
        _area(demo_db, scene, "officer.p2", "27049")
    with pytest.raises(InvalidInput):
        _area(demo_db, scene, "operator", "99999")


def test_search_ignores_case_and_diacritics(demo_db: Database, scene: Scene) -> None:
    area = _area(demo_db, scene, "operator")
    now = scene.clock.now()
    with demo_db.read() as session:
        wards = search(session, area, "phuong 7", 10, now)
        street = search(session, area, "PHAN DANG LUU", 10, now)
        station = search(session, area, "tram phuong 9", 10, now)
        report = search(session, area, scene.reports["Phường 9"][0].lower(), 10, now)
    assert wards[0].label == "Phường 7" and wards[0].url == "/dashboard?ward=27052"
    assert street[0].kind == "street" and street[0].label == "Phan Đăng Lưu"
    assert station[0].url == "/entities/urn%3Angsi-ld%3AAirQualityObserved%3At-p9"
    assert (
        report[0].kind == "report" and report[0].url == f"/reports/{scene.reports['Phường 9'][0]}"
    )


def test_cameras_are_not_counted_as_sensors(demo_db: Database, scene: Scene) -> None:
    # A camera reports its health only when it changes: as a sensor it would look silent.
    entity, payload = status_message("PN-GT-001", "online", *scene.district.points["Phường 9"])
    pipeline = Pipeline(demo_db, EventBus(), scene.clock, ZONE.key)
    camera = message(entity, payload, received_at=scene.clock.now())
    assert pipeline.ingest([camera]).stored == 1
    area = _area(demo_db, scene, "operator")
    with demo_db.read() as session:
        found = dashboard.overview(session, area, scene.clock.now(), ZONE, 1)
        layer = sensor_layer(session, area, scene.clock.now())
    assert found.sensors.total == 3
    assert all(feature.properties.type != "Camera" for feature in layer.features)
