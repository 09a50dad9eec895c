"""What drives every sensor of the district: noise, time of day, traffic, rain, and VN_AQI.

Every value is a pure function of (seed, keys, minute): a backfill and a live run
give the same reading for the same minute, and a test can ask for any moment. Noise
comes from a 64-bit integer hash rather than `random.Random`, which costs ~9 µs to
seed: a 30-day backfill draws millions of values.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

MASK = (1 << 64) - 1
MINUTES_PER_DAY = 1440


def _mix(value: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of an integer."""
    value &= MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def uniform(*keys: int) -> float:
    """A number in [0, 1) that depends only on the keys.

    The hash of a tuple of ints is the same in every run (PYTHONHASHSEED only salts
    str and bytes); the mix spreads its nearby values over the whole range.
    """
    return (_mix(hash(keys)) >> 11) / float(1 << 53)


def normal(*keys: int) -> float:
    """A standard normal number that depends only on the keys (Box–Muller)."""
    first = uniform(*keys, 1) or 1e-12
    return math.sqrt(-2.0 * math.log(first)) * math.cos(2 * math.pi * uniform(*keys, 2))


def smooth(span: int, minute: int, *keys: int) -> float:
    """Noise in [-1, 1] that drifts over `span` minutes (interpolated between hashed knots)."""
    knot, into = divmod(minute, span)
    weight = (1 - math.cos(math.pi * into / span)) / 2
    before, after = uniform(*keys, knot), uniform(*keys, knot + 1)
    return 2 * (before + (after - before) * weight) - 1


@dataclass(frozen=True, slots=True)
class Moment:
    """One minute of simulated time, in UTC and in the district's local time."""

    minute: int  # minutes since the Unix epoch
    hour: float  # local time of day, 0–24
    day: int  # local days since the epoch
    month: int
    day_of_year: int
    weekend: bool

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.minute * 60, UTC)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def moment(minute: int, zone: str) -> Moment:
    """The local calendar of a minute since the epoch."""
    local = datetime.fromtimestamp(minute * 60, _zone(zone))
    offset = local.utcoffset()
    offset_minutes = int(offset.total_seconds()) // 60 if offset else 0
    return Moment(
        minute=minute,
        hour=local.hour + local.minute / 60,
        day=(minute + offset_minutes) // MINUTES_PER_DAY,
        month=local.month,
        day_of_year=local.timetuple().tm_yday,
        weekend=local.weekday() >= 5,
    )


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def traffic(now: Moment) -> float:
    """How busy the roads are, 0–1: rush hours 7–9 and 17–19 on working days, less at weekends."""
    hour = now.hour
    daytime = 1 / (1 + math.exp(-(hour - 6.0) * 2.5)) - 1 / (1 + math.exp(-(hour - 22.5) * 1.5))
    if now.weekend:
        level = 0.06 + 0.55 * daytime + 0.15 * _bump(hour, 10, 2) + 0.2 * _bump(hour, 19, 1.5)
    else:
        level = 0.05 + 0.5 * daytime + 0.45 * _bump(hour, 7.8, 0.8) + 0.45 * _bump(hour, 17.9, 0.9)
    return min(1.0, level)


def daylight(hour: float) -> float:
    """Strength of the sun, 0 at night, 1 at noon (sunrise ~5:45, sunset ~18:00 all year)."""
    return max(0.0, math.sin(math.pi * (hour - 5.75) / 12.25))


def rainy_season(month: int) -> bool:
    """May to November: southern Vietnam's monsoon, with afternoon showers."""
    return 5 <= month <= 11


@dataclass(frozen=True, slots=True)
class Shower:
    """An afternoon shower: when it starts and ends (minutes since the epoch) and how hard."""

    start: int
    end: int
    intensity: float  # mm/h


RAIN = 0x5241494E  # the rain process's own stream of noise


class Weather:
    """The district's rain: on a rainy-season day, likely one afternoon shower (13:30–18:30)."""

    def __init__(self, seed: int, zone: str) -> None:
        self.seed = seed
        self.zone = zone

    @lru_cache(maxsize=64)  # noqa: B019 (a handful of weathers live as long as the process)
    def showers(self, day: int) -> tuple[Shower, ...]:
        """The showers of a local day (days since the epoch)."""
        noon = moment(day * MINUTES_PER_DAY + 12 * 60, self.zone)
        offset = noon.hour - 12  # the zone's offset from UTC, hours
        month = noon.month
        chance = (0.6 if month in (6, 7, 8, 9, 10) else 0.4) if rainy_season(month) else 0.04
        if uniform(self.seed, RAIN, day) >= chance:
            return ()
        start_hour = 13.5 + 5 * uniform(self.seed, RAIN, day, 1)
        start = int(day * MINUTES_PER_DAY + (start_hour - offset) * 60)
        duration = int(20 + 130 * uniform(self.seed, RAIN, day, 2))
        intensity = 8 + 70 * uniform(self.seed, RAIN, day, 3) ** 2
        return (Shower(start, start + duration, intensity),)

    def recent(self, now: Moment) -> tuple[Shower, ...]:
        """Showers of today and yesterday: what can still wet the streets now."""
        return self.showers(now.day - 1) + self.showers(now.day)

    def rate(self, now: Moment) -> float:
        """Rain falling now, mm/h."""
        return sum(s.intensity for s in self.recent(now) if s.start <= now.minute < s.end)

    def wetness(self, now: Moment, minutes: float = 120) -> float:
        """1 while it rains, then fading over `minutes`: cooler, damper, washed-out air."""
        wet = 0.0
        for shower in self.recent(now):
            if shower.start <= now.minute < shower.end:
                return 1.0
            if now.minute >= shower.end:
                wet = max(wet, math.exp(-(now.minute - shower.end) / minutes))
        return wet

    def runoff(self, now: Moment, drainage: float, minutes: float) -> float:
        """Water held on a street (mm): rain beyond the drains fills it, it drains in `minutes`.

        The closed form of dL/dt = (rain − drainage) − L/τ over each shower.
        """
        tau = minutes / 60
        level = 0.0
        for shower in self.recent(now):
            if now.minute < shower.start:
                continue
            excess = max(0.0, shower.intensity - drainage)
            hours = (min(now.minute, shower.end) - shower.start) / 60
            held = excess * tau * (1 - math.exp(-hours / tau))
            if now.minute > shower.end:
                held *= math.exp(-(now.minute - shower.end) / minutes)
            level += held
        return level


VN_AQI_PM25 = ((0, 0), (25, 50), (50, 100), (80, 150), (150, 200), (250, 300), (350, 400))
VN_AQI_PM25_TOP = (500, 500)
"""PM2.5 breakpoints (µg/m³ → index) of VN_AQI, decision 1459/QĐ-TCMT (2019)."""


def vn_aqi(pm25: float) -> int:
    """The VN_AQI sub-index of a PM2.5 concentration (1-hour value, no NowCast weighting)."""
    points = (*VN_AQI_PM25, VN_AQI_PM25_TOP)
    if pm25 >= points[-1][0]:
        return points[-1][1]
    upper = bisect.bisect_right([c for c, _ in points], pm25)
    (c_low, i_low), (c_high, i_high) = points[upper - 1], points[upper]
    return round(i_low + (i_high - i_low) * (pm25 - c_low) / (c_high - c_low))
