"""Values: within Smart Data Models bounds, and shaped like a day in the district."""

from __future__ import annotations

from datetime import timedelta
from statistics import mean

from dothi.db.engine import Database
from dothi.simulator.devices import FLOOD_ALERT, Conditions, report
from dothi.simulator.district import Layout, Sensor
from dothi.simulator.engine import Simulator
from dothi.simulator.faults import NO_FAULTS, FaultRates
from dothi.simulator.signals import MINUTES_PER_DAY, Shower, Weather, moment, vn_aqi
from dothi.telemetry.readings import split_attributes
from tests.simulator.helpers import JULY, ZONE, layout_of, minute_of

SEED = 7


def _local(hour: float, day: int = 0) -> int:
    """A minute at a local hour of a day after JULY's local midnight (UTC+7)."""
    midnight = minute_of(JULY) - 2 * 60 - 7 * 60
    return midnight + day * MINUTES_PER_DAY + int(hour * 60)


def test_every_value_is_one_the_pipeline_accepts(demo_db: Database) -> None:
    """A week of every sensor, faults included, through the pipeline's own validation."""
    layout = layout_of(demo_db)
    simulator = Simulator(layout, SEED, FaultRates(0.2, 0.2, 0.5, 0.05), ZONE)
    start = minute_of(JULY)
    checked = 0
    for minute in range(start, start + 7 * MINUTES_PER_DAY, 61):
        for sensor in layout.sensors:
            values = simulator.values(sensor, minute)
            if values is None:
                continue
            readings, static = split_attributes(sensor.entity_id, sensor.type, values, JULY)
            assert len(readings) == len(values) and not static
            checked += 1
    assert checked > 30_000


def _pm25(layout: Layout, conditions: Conditions, hour: float) -> float:
    stations = layout.of_type("AirQualityObserved")
    weekdays = (0, 1, 2, 5, 6)  # JULY is a Wednesday: days 3 and 4 are the weekend
    return mean(
        float(report(s, conditions, _local(hour, day))["pm25"])
        for s in stations
        for day in weekdays
    )


def test_pm25_peaks_at_the_rush_hours(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    conditions = Conditions(SEED, ZONE)
    morning, evening = _pm25(layout, conditions, 8), _pm25(layout, conditions, 18)
    quiet = max(_pm25(layout, conditions, 3.5), _pm25(layout, conditions, 12.5))
    assert min(morning, evening) > 1.2 * quiet


def test_streetlights_are_on_at_night_and_off_by_day(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    simulator = Simulator(layout, SEED, NO_FAULTS, ZONE)
    lights = layout.of_type("Streetlight")
    for hour, states in ((20, {"on"}), (2, {"low"}), (5.5, {"on"}), (6, {"off"}), (13, {"off"})):
        seen = {simulator.values(light, _local(hour))["powerState"] for light in lights}  # type: ignore[index]
        assert seen == states, hour


def test_a_failed_lamp_stays_dark_and_says_so(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    simulator = Simulator(layout, SEED, FaultRates(0, 0, 0, defective_lamp=1.0), ZONE)
    light = layout.of_type("Streetlight")[0]
    values = simulator.values(light, _local(22, day=5))
    assert values == {"powerState": "off", "status": "defectiveLamp", "illuminanceLevel": 0.0}


def _downpour(weather: Weather) -> Shower:
    """The first shower after JULY heavier than any street's drains (at most 22 mm/h)."""
    first = moment(_local(12), ZONE).day
    return next(
        shower
        for day in range(first, first + 60)
        for shower in weather.showers(day)
        if shower.intensity > 40
    )


def test_flood_sensors_rise_with_the_rain_and_fall_after(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    conditions = Conditions(SEED, ZONE)
    shower = _downpour(conditions.weather)
    sensors = layout.of_type("FloodMonitoring")

    def levels(minute: int) -> list[float]:
        return [float(report(s, conditions, minute)["currentLevel"]) for s in sensors]

    before, end, later = levels(shower.start - 30), levels(shower.end), levels(shower.end + 600)
    assert max(before) < FLOOD_ALERT / 2
    assert mean(end) > mean(before) + 0.05 and max(end) > FLOOD_ALERT
    assert mean(later) < mean(end) / 4


def test_waste_containers_fill_by_day_and_are_emptied(demo_db: Database) -> None:
    layout = layout_of(demo_db)
    conditions = Conditions(SEED, ZONE)
    bins = layout.of_type("WasteContainer")

    def average(hour: float) -> float:
        return mean(float(report(b, conditions, _local(hour))["fillingLevel"]) for b in bins)

    assert average(7) < average(12) < average(18)  # filling from the morning on
    assert average(21) < average(18)  # the evening round has come


def test_vn_aqi_follows_the_pm25_breakpoints() -> None:
    assert [vn_aqi(c) for c in (0, 25, 50, 80, 150, 250, 350, 500, 900)] == [
        0,
        50,
        100,
        150,
        200,
        300,
        400,
        500,
        500,
    ]
    assert vn_aqi(37.5) == 75


def _sensor_of(layout: Layout, kind: str) -> Sensor:
    return layout.of_type(kind)[0]


def test_readings_do_not_depend_on_when_they_are_asked_for(demo_db: Database) -> None:
    """A backfill and a live run send the same values for the same minute."""
    layout = layout_of(demo_db)
    minute = minute_of(JULY + timedelta(hours=5))
    station = _sensor_of(layout, "AirQualityObserved")
    first = Simulator(layout, SEED, FaultRates(), ZONE)
    first.values(station, minute - 500)
    assert first.values(station, minute) == Simulator(layout, SEED, FaultRates(), ZONE).values(
        station, minute
    )
