"""Judging rules on samples: thresholds with hysteresis and `for`, states, rates, stuck values,
silence and composites."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dothi.alarms.rules import (
    Hit,
    RuleState,
    Sample,
    Value,
    Verdict,
    composite_pairs,
    condition_holds,
    evaluate,
    history_needed,
    silent,
)
from dothi.alarms.schemas import (
    CompositeRule,
    NoDataRule,
    RateRule,
    SampledRule,
    Severity,
    StateRule,
    StuckRule,
    ThresholdRule,
    parse_rule,
)
from dothi.core.geo import distance_m

T0 = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
COMMON = {"name": "Quy tắc thử", "wards": ["*"], "entity_type": "AirQualityObserved"}
WARNING_50 = {"severity": "warning", "above": 50}
CRITICAL_80 = {"severity": "critical", "above": 80}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def threshold(*levels: dict[str, Any], **fields: Any) -> ThresholdRule:
    rule = parse_rule(
        {
            "code": "pm25-high",
            "kind": "threshold",
            "attribute": "pm25",
            "levels": levels,
            **COMMON,
            **fields,
        }
    )
    assert isinstance(rule, ThresholdRule)
    return rule


def feed(rule: SampledRule, values: Sequence[Value], every: float = 60) -> list[Severity | None]:
    """The severity after each value, fed one by one `every` seconds apart."""
    state, raised = RuleState(), []
    for number, value in enumerate(values):
        now = at(number * every)
        state, verdict = evaluate(rule, state, [Sample(now, value)], now)
        assert verdict.severity == state.raised
        raised.append(verdict.severity)
    return raised


def judge(rule: SampledRule, points: Sequence[tuple[float, Value]], now: float) -> Verdict:
    """The verdict on samples given as (seconds after T0, value), from a fresh state."""
    samples = [Sample(at(seconds), value) for seconds, value in points]
    return evaluate(rule, RuleState(), samples, at(now))[1]


# Thresholds --------------------------------------------------------------------------------


def test_levels_raise_and_clear_in_both_directions() -> None:
    rule = threshold(WARNING_50, CRITICAL_80)
    assert feed(rule, [10, 60, 85, 70, 40, 81]) == [
        None,
        "warning",
        "critical",
        "warning",
        None,
        "critical",
    ]


def test_the_condition_is_strict() -> None:
    assert feed(threshold(WARNING_50), [50, 50.1]) == [None, "warning"]
    assert feed(threshold({"severity": "warning", "below": 5}), [5, 4.9, 5]) == [
        None,
        "warning",
        None,
    ]


def test_outside_a_band() -> None:
    rule = parse_rule(
        {
            **COMMON,
            "code": "ph",
            "kind": "threshold",
            "entity_type": "WaterQualityObserved",
            "attribute": "pH",
            "levels": [
                {"severity": "warning", "outside": [6.5, 8.5]},
                {"severity": "critical", "outside": [5, 10]},
            ],
        }
    )
    assert isinstance(rule, ThresholdRule)
    assert feed(rule, [7, 8.6, 6.4, 4.9, 10.5, 7.0]) == [
        None,
        "warning",
        "warning",
        "critical",
        "critical",
        None,
    ]


def test_hysteresis_keeps_a_raised_level_until_the_value_is_back_by_the_margin() -> None:
    rule = threshold(WARNING_50, hysteresis=5)
    # 47 and 45.5 are not back by 5 from 50; 44.9 is; 49 then raises nothing (50 is strict).
    assert feed(rule, [51, 47, 45.5, 44.9, 49, 50.5]) == [
        "warning",
        "warning",
        "warning",
        None,
        None,
        "warning",
    ]


def test_a_cleared_higher_level_falls_back_to_the_lower_one() -> None:
    rule = threshold(WARNING_50, CRITICAL_80, hysteresis=5)
    # Critical holds down to 75, then warning down to 45.
    assert feed(rule, [85, 76, 74.9, 46, 44.9]) == [
        "critical",
        "critical",
        "warning",
        "warning",
        None,
    ]


def test_hysteresis_does_not_apply_below_the_band_of_a_lower_level_in_another_direction() -> None:
    rule = threshold(
        {"severity": "warning", "below": 10}, CRITICAL_80, attribute="temperature", hysteresis=5
    )
    # Critical clears at 74; 12 is within 5 of "below 10" but that level was never raised.
    assert feed(rule, [85, 74, 12, 9]) == ["critical", None, None, "warning"]


@given(
    st.floats(min_value=0.01, max_value=50),
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=30),
    st.booleans(),
)
def test_values_within_the_margin_never_flap(
    margin: float, fractions: list[float], raised_first: bool
) -> None:
    """Between threshold − margin and the threshold, a raised level stays and none is raised."""
    rule = threshold(WARNING_50, hysteresis=margin)
    inside = [50 - margin * 0.999 * fraction for fraction in fractions]
    start = [60.0] if raised_first else [0.0]
    expected: Severity | None = "warning" if raised_first else None
    assert feed(rule, [*start, *inside]) == [expected] * (1 + len(inside))


def test_for_seconds_waits_until_the_condition_held_that_long() -> None:
    rule = threshold(WARNING_50, for_seconds=180)
    # Samples a minute apart: held since 0 s, raised at 180 s.
    assert feed(rule, [60, 60, 60, 60, 60]) == [None, None, None, "warning", "warning"]


def test_a_break_restarts_the_for_duration() -> None:
    rule = threshold(WARNING_50, for_seconds=120)
    assert feed(rule, [60, 60, 40, 60, 60, 60]) == [None, None, None, None, None, "warning"]


def test_a_higher_level_raises_after_its_own_for_duration() -> None:
    rule = threshold(WARNING_50, CRITICAL_80, for_seconds=120)
    assert feed(rule, [60, 60, 60, 90, 90, 90]) == [
        None,
        None,
        "warning",
        "warning",
        "warning",
        "critical",
    ]


def test_pending_state_and_reason() -> None:
    rule = threshold(WARNING_50, for_seconds=300)
    state, verdict = evaluate(rule, RuleState(), [Sample(at(0), 60), Sample(at(120), 61)], at(120))
    assert verdict == Verdict(None, 61, "pm25 61 > 50, pending for 120 of 300 s")
    assert state.pending == ("warning", at(0))
    state, verdict = evaluate(rule, state, [Sample(at(300), 212.0)], at(300))
    assert verdict == Verdict("warning", 212.0, "pm25 212 > 50 for 300 s")
    assert state.pending is None


def test_reasons_of_the_other_cases() -> None:
    rule = threshold(WARNING_50, hysteresis=5)
    state, raised = evaluate(rule, RuleState(), [Sample(at(0), 55)], at(0))
    assert raised.reason == "pm25 55 > 50"
    state, held = evaluate(rule, state, [Sample(at(60), 48)], at(60))
    assert held.reason == "pm25 48 not back from > 50 by the hysteresis 5 yet"
    assert evaluate(rule, state, [Sample(at(120), 12.5)], at(120))[1].reason == (
        "pm25 12.5 within limits"
    )


def test_samples_already_judged_are_skipped() -> None:
    rule = threshold(WARNING_50, for_seconds=120)
    history = [Sample(at(seconds), 60) for seconds in (0, 60, 120)]
    state, first = evaluate(rule, RuleState(), history, at(120))
    again, second = evaluate(rule, state, history, at(180))
    assert first.severity == second.severity == "warning"
    assert again == state
    late = evaluate(rule, state, [Sample(at(30), 10)], at(180))[0]
    assert late == state  # older than the newest sample judged


def test_without_a_new_number_the_state_stays() -> None:
    rule = threshold(WARNING_50)
    state, _ = evaluate(rule, RuleState(), [Sample(at(0), 70)], at(0))
    for samples in ([], [Sample(at(60), None)], [Sample(at(60), "n/a")], [Sample(at(60), True)]):
        kept, verdict = evaluate(rule, state, samples, at(60))
        assert kept == state
        assert verdict == Verdict("warning", None, "pm25: no new value")


def test_a_new_rule_judges_the_history_it_is_given() -> None:
    rule = threshold(WARNING_50, for_seconds=600)
    assert history_needed(rule) == timedelta(seconds=600)
    history = [Sample(at(seconds), 70) for seconds in range(0, 601, 300)]
    assert evaluate(rule, RuleState(), history, at(600))[1].severity == "warning"


# States --------------------------------------------------------------------------------------


def state_rule(**fields: Any) -> StateRule:
    rule = parse_rule(
        {
            **COMMON,
            "code": "lamp",
            "kind": "state",
            "entity_type": "Streetlight",
            "attribute": "status",
            "values": ["defectiveLamp", "brokenLantern"],
            "severity": "warning",
            **fields,
        }
    )
    assert isinstance(rule, StateRule)
    return rule


def test_a_state_rule_raises_while_the_text_is_one_of_its_values() -> None:
    assert feed(state_rule(), ["ok", "defectiveLamp", "brokenLantern", 0.5, "ok"]) == [
        None,
        "warning",
        "warning",
        "warning",
        None,
    ]
    verdict = judge(state_rule(), [(0, "defectiveLamp")], 0)
    assert verdict == Verdict("warning", None, "status is defectiveLamp")


def test_a_state_rule_can_wait() -> None:
    rule = state_rule(for_seconds=900)
    assert feed(rule, ["defectiveLamp"] * 4, every=300) == [None, None, None, "warning"]


def test_booleans_read_as_true_and_false() -> None:
    rule = parse_rule(
        {
            **COMMON,
            "code": "jam",
            "kind": "state",
            "entity_type": "TrafficFlowObserved",
            "attribute": "congested",
            "values": ["true"],
            "severity": "info",
        }
    )
    assert isinstance(rule, StateRule)
    assert feed(rule, [False, True, False]) == [None, "info", None]


# Rates ---------------------------------------------------------------------------------------


def rate_rule(**fields: Any) -> RateRule:
    rule = parse_rule(
        {
            **COMMON,
            "code": "rising",
            "kind": "rate",
            "entity_type": "FloodMonitoring",
            "attribute": "currentLevel",
            "window_seconds": 600,
            "severity": "warning",
            **fields,
        }
    )
    assert isinstance(rule, RateRule)
    return rule


def test_a_rise_within_the_window_raises() -> None:
    rule = rate_rule(rise=0.1)
    verdict = judge(rule, [(0, 0.02), (300, 0.08), (600, 0.14)], 600)
    assert verdict.severity == "warning"
    assert verdict.value == pytest.approx(0.12)
    assert verdict.reason == "currentLevel rose 0.12 in 600 s (≥ 0.1)"
    assert judge(rule, [(0, 0.02), (600, 0.1)], 600).severity is None


def test_a_fall_raises_only_when_asked_for() -> None:
    points: list[tuple[float, Value]] = [(0, 0.5), (600, 0.2)]
    assert judge(rate_rule(rise=0.1), points, 600).severity is None
    falling = judge(rate_rule(fall=0.25), points, 600)
    assert (falling.severity, falling.reason) == (
        "warning",
        "currentLevel fell 0.3 in 600 s (≥ 0.25)",
    )


def test_the_rate_window_ends_now() -> None:
    rule = rate_rule(rise=0.1)
    # The sample at 0 s is outside the window that ends at 900 s: only 0.3 → 0.35 counts.
    assert judge(rule, [(0, 0.0), (300, 0.3), (900, 0.35)], 900).severity is None
    few = judge(rule, [(0, 0.0), (900, 0.35)], 900)
    assert few == Verdict(None, None, "currentLevel: fewer than 2 values in the last 600 s")


# Stuck values --------------------------------------------------------------------------------


def stuck_rule(**fields: Any) -> StuckRule:
    rule = parse_rule(
        {
            **COMMON,
            "code": "stuck",
            "kind": "stuck",
            "attribute": "pm25",
            "seconds": 3600,
            "severity": "info",
            **fields,
        }
    )
    assert isinstance(rule, StuckRule)
    return rule


def test_a_value_unchanged_for_the_duration_is_stuck() -> None:
    points: list[tuple[float, Value]] = [(seconds, 12.0) for seconds in range(0, 3601, 600)]
    verdict = judge(stuck_rule(), points, 3600)
    assert verdict == Verdict("info", 12.0, "pm25 within ±0 of 12 for 3600 s")


def test_the_history_asked_for_holds_a_whole_run_whatever_the_period() -> None:
    rule, now = stuck_rule(), 10_000.0
    start = now - history_needed(rule).total_seconds()
    points: list[tuple[float, Value]] = [
        (seconds, 12.0) for seconds in range(0, int(now) + 1, 420) if seconds >= start
    ]
    assert judge(rule, points, now).severity == "info"


def test_a_change_breaks_the_run() -> None:
    points: list[tuple[float, Value]] = [(0, 20.0), *((s, 12.0) for s in range(600, 4201, 600))]
    assert judge(stuck_rule(), points, 4200).severity == "info"  # 600 → 4200 s: 3600 s
    short = judge(stuck_rule(), points[:-1], 3600)
    assert short.severity is None
    assert short.reason == "pm25 within ±0 of 12 for 3000 s only (< 3600 s)"


def test_stuck_values_may_wobble_within_the_tolerance() -> None:
    values = [12.0, 12.2, 11.9, 12.1, 12.0, 12.2, 11.95]
    points: list[tuple[float, Value]] = [(600 * i, v) for i, v in enumerate(values)]
    assert judge(stuck_rule(tolerance=0.3), points, 3600).severity == "info"
    assert judge(stuck_rule(tolerance=0.2), points, 3600).severity is None  # 11.9 … 12.2


def test_one_value_is_not_stuck() -> None:
    assert judge(stuck_rule(), [(0, 12.0), (10, "x")], 3600).severity is None


# Silence -------------------------------------------------------------------------------------


def no_data_rule(**fields: Any) -> NoDataRule:
    rule = parse_rule(
        {
            **COMMON,
            "code": "silent",
            "kind": "no_data",
            "silent_seconds": 900,
            "severity": "warning",
            **fields,
        }
    )
    assert isinstance(rule, NoDataRule)
    return rule


def test_silence_longer_than_the_limit_raises() -> None:
    rule = no_data_rule()
    assert silent(rule, at(0), at(900)) == Verdict(None, 900, "last seen 900 s ago")
    assert silent(rule, at(0), at(901)) == Verdict("warning", 901, "silent for 901 s (> 900 s)")
    assert silent(no_data_rule(attribute="pm25"), at(0), at(1000)).reason.startswith("pm25: silent")


def test_an_entity_never_seen_is_silent() -> None:
    assert silent(no_data_rule(), None, at(0)) == Verdict("warning", None, "no data received")


# Composites ----------------------------------------------------------------------------------


def composite_rule() -> CompositeRule:
    rule = parse_rule(
        {
            "code": "flood-jam",
            "kind": "composite",
            "name": "Ngập gây kẹt xe",
            "wards": ["*"],
            "first": {"entity_type": "FloodMonitoring", "attribute": "currentLevel", "above": 0.1},
            "second": {
                "entity_type": "TrafficFlowObserved",
                "attribute": "averageVehicleSpeed",
                "below": 10,
            },
            "within_meters": 500,
            "within_seconds": 900,
            "severity": "critical",
        }
    )
    assert isinstance(rule, CompositeRule)
    return rule


def test_distance_is_great_circle() -> None:
    # One degree of latitude: 2π · 6 371 000 / 360 = 111 194.9 m.
    assert distance_m(106.68, 10.0, 106.68, 11.0) == pytest.approx(111_194.9, abs=0.1)
    assert distance_m(106.68, 10.8, 106.68, 10.8) == 0


def test_condition_holds_on_numbers_only() -> None:
    rule = composite_rule()
    assert condition_holds(rule.first, 0.2)
    assert not condition_holds(rule.first, 0.1)
    assert not condition_holds(rule.first, "0.2")
    assert condition_holds(rule.second, 5)


def test_composite_pairs_are_near_in_space_and_time() -> None:
    rule = composite_rule()
    jam = Hit("urn:ngsi-ld:TrafficFlowObserved:1", 106.68, 10.80, at(0), 6.0)
    free = Hit("urn:ngsi-ld:TrafficFlowObserved:2", 106.68, 10.80, at(0), 35.0)
    near = Hit("urn:ngsi-ld:FloodMonitoring:1", 106.68, 10.803, at(600), 0.2)  # ~334 m
    far = Hit("urn:ngsi-ld:FloodMonitoring:2", 106.68, 10.81, at(0), 0.3)  # ~1.1 km
    late = Hit("urn:ngsi-ld:FloodMonitoring:3", 106.68, 10.80, at(1000), 0.3)
    dry = Hit("urn:ngsi-ld:FloodMonitoring:4", 106.68, 10.80, at(0), 0.05)
    assert composite_pairs(rule, [near, far, late, dry], [jam, free]) == [(near, jam)]


def test_an_entity_is_not_paired_with_itself() -> None:
    rule = composite_rule()
    both = Hit("urn:ngsi-ld:X:1", 106.68, 10.80, at(0), 5.0)
    assert composite_pairs(rule.model_copy(update={"first": rule.second}), [both], [both]) == []


# State and history ---------------------------------------------------------------------------

severities = st.sampled_from(["info", "warning", "critical"])
times = st.datetimes(timezones=st.just(UTC))


@given(
    st.none() | severities,
    st.dictionaries(severities, times),
    st.none() | times,
)
def test_state_round_trips_through_json(
    raised: Severity | None, since: dict[Severity, datetime], last_at: datetime | None
) -> None:
    state = RuleState(raised, since, last_at)
    assert RuleState.from_json(state.to_json()) == state


def test_a_state_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="'urgent' is not a severity"):
        RuleState.from_json({"raised": "urgent", "since": {}, "last_at": None})


def test_history_needed_by_each_kind() -> None:
    assert history_needed(threshold(WARNING_50)) == timedelta(0)
    assert history_needed(rate_rule(rise=1)) == timedelta(seconds=600)
    assert history_needed(stuck_rule()) == timedelta(seconds=7200)
    assert history_needed(state_rule(for_seconds=60)) == timedelta(seconds=60)
    assert history_needed(no_data_rule()) == timedelta(0)
    assert history_needed(composite_rule()) == timedelta(seconds=900)
