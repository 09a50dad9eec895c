"""The hourly Vietnamese air quality index, VN_AQI, per decision 1459/QĐ-TCMT (2019).

Followed: Quyết định 1459/QĐ-TCMT of 12 November 2019 of the Vietnam Environment
Administration (Tổng cục Môi trường), "Hướng dẫn kỹ thuật tính toán và công bố chỉ số
chất lượng không khí Việt Nam (VN_AQI)", which replaced 878/QĐ-TCMT (2011):
- section 2.2.1 a: NowCast of PM2.5 and PM10 over the last 12 hourly means,
  w* = Cmin/Cmax, w = 1/2 when w* ≤ 1/2 else w*; a missing hour weighs 0; no value
  unless at least 2 of the 3 latest hours are present;
- section 2.2.1 b, table 2 (Bảng 2): the breakpoints BPi in µg/m³ with linear
  interpolation, O3 with its 1-hour column, PM with the NowCast, gases with the hour's mean;
- section 2.2.1 c: AQI_h is the largest sub-index, rounded to an integer;
- section 1.4, table 1 (Bảng 1): the six categories and their RGB colours.
Sources read: the decision's text as published by thuvienphapluat.vn and cem.gov.vn
(table 1 colours), cross-checked against a hand transcription of the signed PDF from
vea.mae.gov.vn (github.com/qnguyenle075/hcmc-air-quality, data/processed/qd_1459_vn_aqi.md).

Two readings of ours: the decision writes the w = 1/2 NowCast as Σ (1/2)^i·ci without
dividing by the weights; we always divide by Σ w^(i-1) (the same value within 0.03 %
when all 12 hours are present, and the right one when hours are missing). The worked
example of section 2.3 gives AQI(NO2 118.7) = 60 where its own formula gives 59.35,
which rounds to 59: we follow the formula.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeGuard

from dothi.telemetry.types import AttributeSpec, spec_of

Pollutant = Literal["pm25", "pm10", "o3", "no2", "so2", "co"]
POLLUTANTS: tuple[Pollutant, ...] = ("pm25", "pm10", "o3", "no2", "so2", "co")
"""The six parameters of VN_AQI, named as AirQualityObserved names them; ties go to the first."""
PARTICLES: frozenset[Pollutant] = frozenset({"pm25", "pm10"})
"""At least one of these is required, and these are weighted by NowCast."""

ENTITY_TYPE = "AirQualityObserved"
ATTRIBUTE = "vnAqi"
SPEC = AttributeSpec(ATTRIBUTE, minimum=0, maximum=500)
"""VN_AQI as a derived attribute of air quality stations, which rules may watch."""

_INDEX = (0, 50, 100, 150, 200, 300, 400, 500)
_BREAKPOINTS: Mapping[Pollutant, tuple[float, ...]] = {  # Bảng 2, µg/m³, one per _INDEX
    "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),  # the 1-hour column
    "co": (0, 10_000, 30_000, 45_000, 60_000, 90_000, 120_000, 150_000),
    "so2": (0, 125, 350, 550, 800, 1600, 2100, 2630),
    "no2": (0, 100, 200, 700, 1200, 2350, 3100, 3850),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "pm25": (0, 25, 50, 80, 150, 250, 350, 500),
}
_MICROGRAMS_PER_UNIT = {"GQ": 1.0, "GP": 1000.0}  # UN/CEFACT: µg/m³, mg/m³
NOWCAST_HOURS = 12


def _micrograms_per_unit(pollutant: Pollutant) -> float:
    spec = spec_of(ENTITY_TYPE, pollutant)
    if spec is None or spec.unit_code not in _MICROGRAMS_PER_UNIT:
        raise LookupError(f"{ENTITY_TYPE}.{pollutant} has no concentration unit")
    return _MICROGRAMS_PER_UNIT[spec.unit_code]


_SCALE: Mapping[Pollutant, float] = {p: _micrograms_per_unit(p) for p in POLLUTANTS}
"""Stored value → µg/m³: dothi stores CO in mg/m³ (as Smart Data Models do), the table µg/m³."""


@dataclass(frozen=True, slots=True)
class Category:
    """A band of table 1: its number, Vietnamese label, colour and highest index."""

    number: int
    label: str
    colour: str
    upper: int


CATEGORIES = (
    Category(1, "Tốt", "#00E400", 50),  # 0;228;0
    Category(2, "Trung bình", "#FFFF00", 100),  # 255;255;0
    Category(3, "Kém", "#FF7E00", 150),  # 255;126;0
    Category(4, "Xấu", "#FF0000", 200),  # 255;0;0
    Category(5, "Rất xấu", "#8F3F97", 300),  # 143;63;151
    Category(6, "Nguy hại", "#7E0023", 500),  # 126;0;35
)


@dataclass(frozen=True, slots=True)
class Aqi:
    """A station's hourly VN_AQI: its value, the pollutant setting it, its band, all sub-indices."""

    value: int
    dominant: Pollutant
    category: Category
    sub_indices: Mapping[Pollutant, int]


def category(value: int) -> Category:
    """The band of an index value (values above 500 are in the last band)."""
    return next((band for band in CATEGORIES if value <= band.upper), CATEGORIES[-1])


def _present(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value)


def sub_index(pollutant: Pollutant, concentration: float) -> int | None:
    """AQI_x of one concentration, in the unit dothi stores it (µg/m³; CO in mg/m³).

    PM values are expected to be NowCast already. None for a negative or NaN value;
    500 at and above the table's last breakpoint.
    """
    if not _present(concentration) or concentration < 0:
        return None
    points = _BREAKPOINTS[pollutant]
    value = concentration * _SCALE[pollutant]
    if value >= points[-1]:
        return _INDEX[-1]
    i = bisect.bisect_right(points, value) - 1
    index = _INDEX[i] + (_INDEX[i + 1] - _INDEX[i]) * (value - points[i]) / (
        points[i + 1] - points[i]
    )
    return math.floor(index + 0.5)  # "làm tròn thành số nguyên": halves go up


def nowcast(hourly_means: Sequence[float | None]) -> float | None:
    """The NowCast of the last 12 hourly means, given oldest first (the current hour last).

    None (no value) unless at least 2 of the 3 latest hours are present.
    """
    latest_first = list(reversed(hourly_means[-NOWCAST_HOURS:]))
    if sum(_present(c) for c in latest_first[:3]) < 2:
        return None
    present = [(i, c) for i, c in enumerate(latest_first) if _present(c)]
    highest = max(c for _, c in present)
    if highest <= 0:
        return 0.0
    w = max(min(c for _, c in present) / highest, 0.5)
    return sum(w**i * c for i, c in present) / sum(w**i for i, _ in present)


def _concentration(pollutant: Pollutant, hourly_means: Sequence[float | None]) -> float | None:
    if pollutant in PARTICLES:
        return nowcast(hourly_means)
    current = hourly_means[-1] if hourly_means else None
    return current if _present(current) else None


def vn_aqi(hourly: Mapping[str, Sequence[float | None]]) -> Aqi | None:
    """A station's AQI_h from its hourly means per attribute (oldest first, current hour last).

    Keys other than the six pollutants are ignored. None without PM2.5 or PM10.
    """
    indices: dict[Pollutant, int] = {}
    for pollutant in POLLUTANTS:
        concentration = _concentration(pollutant, hourly.get(pollutant, ()))
        index = None if concentration is None else sub_index(pollutant, concentration)
        if index is not None:
            indices[pollutant] = index
    if not PARTICLES & indices.keys():
        return None
    dominant = max(indices, key=lambda p: (indices[p], -POLLUTANTS.index(p)))
    value = indices[dominant]
    return Aqi(value, dominant, category(value), indices)
