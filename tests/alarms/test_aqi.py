"""VN_AQI against the worked examples of 1459/QĐ-TCMT and sums done by hand from its table 2."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dothi.alarms.aqi import (
    CATEGORIES,
    POLLUTANTS,
    Pollutant,
    category,
    nowcast,
    sub_index,
    vn_aqi,
)

# Section 2.3 a of the decision: PM2.5 hourly means from 09:00 to 20:00 (20:00 is the current hour).
EXAMPLE_PM25 = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]


def test_nowcast_of_the_decisions_example() -> None:
    # w* = 16.5 / 26.9 = 0.613 > 1/2, so w = w*; the decision gets 20.3 µg/m³.
    assert nowcast(EXAMPLE_PM25) == pytest.approx(20.3, abs=0.05)


def test_nowcast_weight_is_at_least_one_half() -> None:
    # 10 now, 40 an hour ago: w* = 0.25 → w = 0.5; (1·10 + 0.5·40) / (1 + 0.5) = 20.
    assert nowcast([40.0, 10.0]) == pytest.approx(20.0)


def test_nowcast_gives_a_missing_hour_no_weight() -> None:
    # c1 = 30, c2 missing, c3 = 30 → 30 whatever the weight.
    assert nowcast([30.0, None, 30.0]) == pytest.approx(30.0)
    # c1 = 20, c2 missing, c3 = 40: w* = 0.5 → w = 0.5; (1·20 + 0.25·40) / 1.25 = 24.
    assert nowcast([40.0, None, 20.0]) == pytest.approx(24.0)


def test_nowcast_needs_two_of_the_three_latest_hours() -> None:
    assert nowcast([20.0, 20.0, 20.0, None, None]) is None
    assert nowcast([20.0, 20.0, None, 20.0, None]) is None
    assert nowcast([20.0, 20.0, float("nan"), None, 20.0]) is None
    assert nowcast([]) is None


def test_nowcast_reads_only_the_last_twelve_hours() -> None:
    assert nowcast([1000.0] + [15.0] * 12) == pytest.approx(15.0)


def test_nowcast_of_clean_air_is_zero() -> None:
    assert nowcast([0.0, 0.0, 0.0]) == 0.0


@pytest.mark.parametrize(
    ("pollutant", "concentration", "expected"),
    [
        # Section 2.3 b: O3 136.1 → 50/160 · 136.1 = 42.53 → 43.
        ("o3", 136.1, 43),
        # Section 2.3 b prints 60 for NO2 118.7, but its formula gives
        # 50 + (100 − 50)/(200 − 100) · (118.7 − 100) = 59.35 → 59.
        ("no2", 118.7, 59),
        # Section 2.3 b: PM2.5 NowCast 20.3 → 50/25 · 20.3 = 40.6 → 41.
        ("pm25", 20.3, 41),
        # Section 2.3 c (same table): PM2.5 55.7 → 100 + 50/30 · 5.7 = 109.5 → 110.
        ("pm25", 55.7, 110),
        # Breakpoints land on their index.
        ("pm25", 25.0, 50),
        ("pm25", 150.0, 200),
        ("pm10", 420.0, 300),
        ("so2", 2100.0, 400),
        # PM10 100 → 50 + 50/100 · 50 = 75.
        ("pm10", 100.0, 75),
        # CO is stored in mg/m³: 20 mg/m³ = 20 000 µg/m³ → 50 + 50/20 000 · 10 000 = 75.
        ("co", 20.0, 75),
        ("co", 10.0, 50),
        # At and above the last breakpoint: 500.
        ("pm25", 500.0, 500),
        ("no2", 9000.0, 500),
        ("o3", 0.0, 0),
    ],
)
def test_sub_index_follows_table_2(
    pollutant: Pollutant, concentration: float, expected: int
) -> None:
    assert sub_index(pollutant, concentration) == expected


def test_sub_index_of_no_measurement_is_none() -> None:
    assert sub_index("pm25", -1.0) is None
    assert sub_index("pm25", math.nan) is None


def test_halves_round_up() -> None:
    # PM2.5 1.25 → 50/25 · 1.25 = 2.5 → 3 (Python's round() would give 2).
    assert sub_index("pm25", 1.25) == 3


@given(st.sampled_from(POLLUTANTS), st.floats(0, 1e6), st.floats(0, 1e6))
def test_sub_index_is_monotonic_and_on_the_scale(pollutant: Pollutant, a: float, b: float) -> None:
    low, high = sorted((a, b))
    low_index, high_index = sub_index(pollutant, low), sub_index(pollutant, high)
    assert low_index is not None and high_index is not None
    assert 0 <= low_index <= high_index <= 500


def test_vn_aqi_of_the_decisions_hourly_example() -> None:
    aqi = vn_aqi({"o3": [136.1], "no2": [118.7], "pm25": EXAMPLE_PM25, "temperature": [31.0]})
    assert aqi is not None
    assert aqi.sub_indices == {"pm25": 41, "o3": 43, "no2": 59}
    assert (aqi.value, aqi.dominant) == (59, "no2")
    assert (aqi.category.number, aqi.category.label, aqi.category.colour) == (
        2,
        "Trung bình",
        "#FFFF00",
    )


def test_vn_aqi_gases_use_the_current_hour() -> None:
    # O3 an hour ago 1000 (index 400), now 160 (index 50); PM2.5 steady at 10 → 20.
    aqi = vn_aqi({"o3": [1000.0, 160.0], "pm25": [10.0, 10.0, 10.0]})
    assert aqi is not None
    assert (aqi.value, aqi.dominant) == (50, "o3")


def test_vn_aqi_needs_pm25_or_pm10() -> None:
    assert vn_aqi({"o3": [300.0], "no2": [150.0]}) is None
    assert vn_aqi({"pm25": [30.0, None, None], "o3": [300.0]}) is None
    pm10_only = vn_aqi({"pm10": [100.0, 100.0]})
    assert pm10_only is not None and pm10_only.value == 75


def test_ties_go_to_the_first_pollutant() -> None:
    # PM2.5 25 → 50 and PM10 50 → 50: PM2.5 comes first.
    aqi = vn_aqi({"pm10": [50.0, 50.0], "pm25": [25.0, 25.0]})
    assert aqi is not None and aqi.dominant == "pm25"


@pytest.mark.parametrize(
    ("value", "number", "label", "colour"),
    [
        (0, 1, "Tốt", "#00E400"),
        (50, 1, "Tốt", "#00E400"),
        (51, 2, "Trung bình", "#FFFF00"),
        (150, 3, "Kém", "#FF7E00"),
        (151, 4, "Xấu", "#FF0000"),
        (201, 5, "Rất xấu", "#8F3F97"),
        (300, 5, "Rất xấu", "#8F3F97"),
        (301, 6, "Nguy hại", "#7E0023"),
        (500, 6, "Nguy hại", "#7E0023"),
    ],
)
def test_categories_of_table_1(value: int, number: int, label: str, colour: str) -> None:
    band = category(value)
    assert (band.number, band.label, band.colour) == (number, label, colour)


def test_category_colours_are_table_1_rgb() -> None:
    rgb = [tuple(int(band.colour[i : i + 2], 16) for i in (1, 3, 5)) for band in CATEGORIES]
    assert rgb == [
        (0, 228, 0),
        (255, 255, 0),
        (255, 126, 0),
        (255, 0, 0),
        (143, 63, 151),
        (126, 0, 35),
    ]
