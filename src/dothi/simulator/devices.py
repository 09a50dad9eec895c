"""What each kind of sensor reports at a given minute, with FIWARE Smart Data Models names.

`Conditions.at(minute)` is the district's state (traffic, sun, rain, air); `report`
turns it into one sensor's attributes, with the sensor's own noise and character
(a station by a primary road sees more traffic than one in a lane). Ratios are
fractions (relativeHumidity 0.71), as `dothi.telemetry.types` expects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dothi.simulator.district import Sensor
from dothi.simulator.signals import (
    MINUTES_PER_DAY,
    Moment,
    Weather,
    daylight,
    moment,
    normal,
    rainy_season,
    smooth,
    traffic,
    uniform,
    vn_aqi,
)

Value = float | int | str | bool
Values = dict[str, Value]
DISTRICT = 0  # the key of district-wide noise, next to sensors' keys
LIGHTS_ON, LIGHTS_OFF = 18.0, 5.75  # local hours
DIMMED = (23.0, 4.5)  # smart lighting runs at 60 % in the dead of night


@dataclass(frozen=True, slots=True)
class Now:
    """The district at one minute: what every sensor's reading starts from."""

    moment: Moment
    traffic: float  # 0–1
    rain: float  # mm/h
    wet: float  # 1 while it rains, fading after
    sun: float  # 0–1
    temperature: float  # °C, the district's air
    humidity: float  # 0–1
    stagnation: float  # > 1 on days when the air does not move


class Conditions:
    """The district's weather and traffic, minute by minute."""

    def __init__(self, seed: int, zone: str) -> None:
        self.seed = seed
        self.zone = zone
        self.weather = Weather(seed, zone)
        self._last: Now | None = None

    def at(self, minute: int) -> Now:
        if self._last is not None and self._last.moment.minute == minute:
            return self._last
        now = moment(minute, self.zone)
        wet = self.weather.wetness(now)
        season = 2 * math.pi * (now.day_of_year - 110) / 365
        mean = 28.0 + 1.6 * math.cos(season)  # April hottest, January coolest
        swing = 3.2 if rainy_season(now.month) else 4.0
        drift = smooth(360, minute, self.seed, DISTRICT, 1)
        temperature = (
            mean + swing * math.cos(2 * math.pi * (now.hour - 14.5) / 24) + 0.8 * drift - 3.5 * wet
        )
        damp = 0.80 if rainy_season(now.month) else 0.68
        humidity = damp - 0.03 * (temperature - mean) + 0.15 * wet
        self._last = Now(
            moment=now,
            traffic=traffic(now),
            rain=self.weather.rate(now),
            wet=wet,
            sun=daylight(now.hour),
            temperature=temperature,
            humidity=min(0.99, max(0.35, humidity)),
            stagnation=math.exp(0.35 * smooth(720, minute, self.seed, DISTRICT, 2)),
        )
        return self._last


def report(
    sensor: Sensor, conditions: Conditions, minute: int, lamp_failed: bool = False
) -> Values:
    """The attributes a sensor sends at this minute."""
    now = conditions.at(minute)
    if sensor.type == "Streetlight":
        return _streetlight(now, lamp_failed)
    noise = _Noise(conditions.seed, sensor.key, minute)
    return _REPORTS[sensor.type](sensor, now, noise, conditions.weather)


@dataclass(frozen=True, slots=True)
class _Noise:
    """A sensor's own noise at a minute: one stream per attribute."""

    seed: int
    sensor: int
    minute: int

    def normal(self, attribute: int) -> float:
        return normal(self.seed, self.sensor, self.minute, attribute)

    def trait(self, number: int) -> float:
        """A fixed character of the sensor, 0–1 (how fast a bin fills, how a street drains)."""
        return uniform(self.seed, self.sensor, number)

    def drift(self, span: int, attribute: int) -> float:
        return smooth(span, self.minute, self.seed, self.sensor, attribute)


def _air_quality(sensor: Sensor, now: Now, noise: _Noise, _weather: Weather) -> Values:
    hour = now.moment.hour
    season = 24 + 10 * math.cos(2 * math.pi * (now.moment.day_of_year - 15) / 365)
    # Night: a shallow boundary layer keeps what the evening traffic left.
    night = 1 + 0.3 * (math.exp(-(((hour - 1) / 3) ** 2)) + math.exp(-(((hour - 25) / 3) ** 2)))
    cars = now.traffic * sensor.busy
    local = now.stagnation * math.exp(0.1 * noise.drift(180, 1))
    pm25 = max(2.0, season * (0.5 + 0.9 * cars) * night * local * (1 - 0.45 * now.wet))
    pm25 *= 1 + 0.06 * noise.normal(2)
    o3 = (12 + 90 * now.sun * (1 - 0.5 * now.wet)) * (1.1 - 0.2 * cars)  # NO titrates O3
    return {
        "pm25": round(pm25, 1),
        "pm10": round(pm25 * (1.55 + 0.15 * abs(noise.normal(3))), 1),
        "no2": round(max(1.0, (12 + 48 * cars) * local * (1 + 0.08 * noise.normal(4))), 1),
        "so2": round(6 + 4 * (1 + noise.drift(240, 5)), 1),
        "o3": round(max(1.0, o3 * (1 + 0.1 * noise.normal(6))), 1),
        "co": round(max(0.1, (0.35 + 1.5 * cars) * local * (1 + 0.08 * noise.normal(7))), 2),
        "temperature": round(now.temperature + 0.3 * sensor.busy + 0.2 * noise.normal(8), 1),
        "relativeHumidity": round(min(1.0, max(0.0, now.humidity + 0.01 * noise.normal(9))), 2),
        "airQualityIndex": vn_aqi(pm25),
    }


FLOOD_ALERT, FLOOD_CRITICAL = 0.1, 0.25  # metres of water on the road


def _flood(_sensor: Sensor, now: Now, noise: _Noise, weather: Weather) -> Values:
    # Each hotspot has its own drains: how much rain they take and how fast the street empties.
    held = weather.runoff(
        now.moment,
        drainage=12 + 10 * noise.trait(1),
        minutes=30 + 40 * noise.trait(2),
    )
    level = max(0.0, (0.006 + 0.008 * noise.trait(3)) * held + 0.003 * noise.normal(4))
    mounted = 3.0 + 0.5 * noise.trait(5)  # the ultrasonic sensor's height above the road
    status = (
        "critical" if level >= FLOOD_CRITICAL else "warning" if level >= FLOOD_ALERT else "normal"
    )
    return {
        "currentLevel": round(level, 3),
        "measuredDistance": round(mounted - level, 3),
        "floodLevelStatus": status,
    }


def lights_on(hour: float) -> bool:
    """Whether the district's streetlights are switched on at this local hour."""
    return hour >= LIGHTS_ON or hour < LIGHTS_OFF


def _streetlight(now: Now, lamp_failed: bool) -> Values:
    hour = now.moment.hour
    if lamp_failed:
        return {"powerState": "off", "status": "defectiveLamp", "illuminanceLevel": 0.0}
    if not lights_on(hour):
        return {"powerState": "off", "status": "ok", "illuminanceLevel": 0.0}
    dimmed = hour >= DIMMED[0] or hour < DIMMED[1]
    return {
        "powerState": "low" if dimmed else "on",
        "status": "ok",
        "illuminanceLevel": 0.6 if dimmed else 1.0,
    }


COLLECTIONS = (19.5, 5.0)  # local hours of the evening and the early-morning rounds
MISSED = 0.05  # a round that does not come (a truck broke down): the bin overflows
BIN_CAPACITY = (120, 140)  # kg when full: smallest, spread


def _activity(hour: float) -> float:
    """How much people throw away at this hour, relative to the busiest (0.2 at night)."""
    return 0.2 + 0.8 / (1 + math.exp(-(hour - 6) * 3)) - 0.8 / (1 + math.exp(-(hour - 22) * 3))


_DAY_ACTIVITY = [0.0]
for _minute in range(MINUTES_PER_DAY):
    _DAY_ACTIVITY.append(_DAY_ACTIVITY[-1] + _activity(_minute / 60) / 60)
"""Hours of activity from local midnight to each minute of the day (cumulative)."""


def _activity_between(start: float, end: float) -> float:
    """Hours of activity between two local times, in hours since local midnight of a day."""

    def upto(hours: float) -> float:
        days, rest = divmod(hours * 60, MINUTES_PER_DAY)
        return days * _DAY_ACTIVITY[-1] + _DAY_ACTIVITY[int(rest)]

    return upto(end) - upto(start)


def _last_collection(now: Moment, noise: _Noise) -> float:
    """Local hours (from today's midnight, negative: before) of the last round that came."""
    for days_back in range(4):
        day = now.day - days_back
        rounds = sorted(
            (hour + noise.trait(10 + number) - 0.5 for number, hour in enumerate(COLLECTIONS)),
            reverse=True,
        )
        for number, hour in enumerate(rounds):
            when = hour - 24 * days_back
            came = uniform(noise.seed, noise.sensor, day, 20 + number) >= MISSED
            if when <= now.hour and came:
                return when
    return now.hour - 96  # four days without a round: long full


def _waste(sensor: Sensor, now: Now, noise: _Noise, _weather: Weather) -> Values:
    rate = (0.035 + 0.03 * noise.trait(1)) * sensor.busy  # of the bin per busy hour
    filled = rate * _activity_between(_last_collection(now.moment, noise), now.moment.hour)
    level = min(1.0, max(0.0, filled + 0.01 * noise.normal(2)))
    capacity = BIN_CAPACITY[0] + BIN_CAPACITY[1] * noise.trait(3)
    return {
        "fillingLevel": round(level, 2),
        "cargoWeight": round(level * capacity, 1),
        "temperature": round(now.temperature + 2 * now.sun + 0.3 * noise.normal(4), 1),
        "status": "lidOpen" if level >= 0.98 else "ok",  # an overfull bin does not close
    }


CONGESTED = 15.0  # km/h: below this a road counts as congested


def _traffic(sensor: Sensor, now: Now, noise: _Noise, _weather: Weather) -> Values:
    busy = sensor.busy
    load = now.traffic * (1 + 0.08 * noise.drift(60, 1))
    capacity = 350 + 1250 * (busy - 0.9)  # vehicles per 5 minutes, mostly motorbikes
    intensity = capacity * load * (1 - 0.25 * now.wet) * (1 + 0.1 * noise.normal(2))
    free_flow = 30 + 12 * busy
    speed = free_flow * (1 - 0.72 * load**2) * (1 - 0.2 * now.wet) * (1 + 0.05 * noise.normal(3))
    speed = max(3.0, speed)
    occupancy = 0.03 + 0.55 * load**1.6 * busy + 0.02 * noise.normal(4)
    return {
        "intensity": max(0, round(intensity)),
        "averageVehicleSpeed": round(speed, 1),
        "occupancy": round(min(0.95, max(0.0, occupancy)), 2),
        "congested": speed < CONGESTED,
    }


def _wastewater(_sensor: Sensor, now: Now, noise: _Noise, _weather: Weather) -> Values:
    hour = now.moment.hour
    # Households: a morning and an evening peak of water use; rain dilutes the sewage.
    use = 0.3 + 0.7 * max(math.exp(-(((hour - 7) / 1.5) ** 2)), math.exp(-(((hour - 19) / 2) ** 2)))
    dilution = 1 - 0.5 * now.wet
    flush = 3 * min(now.rain, 50)  # the first flush of a shower carries the street's dirt

    def wobble(attribute: int) -> float:
        return 1 + 0.05 * noise.normal(attribute)

    return {
        "temperature": round(28.5 + 1.2 * math.cos(2 * math.pi * (hour - 15) / 24), 1),
        "pH": round(7.1 + 0.2 * noise.drift(240, 1) - 0.15 * use, 2),
        "conductivity": round((0.08 + 0.05 * use) * dilution * wobble(2), 3),
        "turbidity": round(((40 + 60 * use) * dilution + flush) * wobble(3), 1),
        "O2": round(max(0.1, (1.0 + 1.5 * now.sun - 0.6 * use) * wobble(4)), 2),
        "tss": round(((60 + 90 * use) * dilution + 2 * min(now.rain, 50)) * wobble(5), 1),
        "NH4": round((12 + 15 * use) * dilution * wobble(6), 2),
        "COD": round((90 + 160 * use) * dilution * wobble(7), 1),
    }


_REPORTS: dict[str, Callable[[Sensor, Now, _Noise, Weather], Values]] = {
    "AirQualityObserved": _air_quality,
    "FloodMonitoring": _flood,
    "WasteContainer": _waste,
    "TrafficFlowObserved": _traffic,
    "WaterQualityObserved": _wastewater,
}
