"""The layout: how many sensors of each kind, in which ward, with stable ids."""

from __future__ import annotations

from collections import Counter

from dothi.db.engine import Database
from dothi.places.lookup import locate
from dothi.simulator.district import LIGHTS
from tests.simulator.helpers import JULY, layout_of


def test_the_district_has_its_sensors_one_station_per_ward(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    counts = Counter(sensor.type for sensor in layout.sensors)
    assert counts["AirQualityObserved"] == 15
    assert counts["Streetlight"] == LIGHTS == 200
    assert counts["WasteContainer"] == 60
    assert counts["TrafficFlowObserved"] == 20
    assert counts["FloodMonitoring"] == 10
    assert 2 <= counts["WaterQualityObserved"] <= 5
    stations = layout.of_type("AirQualityObserved")
    assert len({station.ward for station in stations}) == 15
    ids = [sensor.entity_id for sensor in layout.sensors]
    assert len(set(ids)) == len(ids)
    assert all(
        i.startswith(f"urn:ngsi-ld:{s.type}:pn-") for i, s in zip(ids, layout.sensors, strict=True)
    )


def test_every_sensor_stands_in_the_ward_the_places_lookup_finds(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    with demo_db.read() as session:
        for sensor in layout.sensors:
            unit = locate(session, sensor.lon, sensor.lat, JULY.date())
            assert unit is not None and unit.code == sensor.ward, sensor.entity_id


def test_the_layout_is_the_same_for_the_same_seed(demo_db: Database) -> None:
    assert layout_of(demo_db) == layout_of(demo_db)
    moved = layout_of(demo_db, seed=1)
    assert [s.entity_id for s in moved.sensors] == [s.entity_id for s in layout_of(demo_db).sensors]
