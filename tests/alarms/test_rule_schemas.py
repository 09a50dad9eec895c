"""Rule definitions: what is accepted, and refusals that name the rule and the field at fault."""

from typing import Any

import pytest

from dothi.alarms.schemas import (
    CompositeRule,
    NoDataRule,
    StateRule,
    ThresholdRule,
    parse_rule,
)
from dothi.errors import InvalidInput


def threshold(**fields: Any) -> dict[str, Any]:
    """A valid threshold rule on PM2.5, with some fields replaced (None: removed)."""
    rule: dict[str, Any] = {
        "code": "pm25-high",
        "kind": "threshold",
        "name": "Bụi mịn PM2.5 cao",
        "entity_type": "AirQualityObserved",
        "attribute": "pm25",
        "wards": ["*"],
        "levels": [{"severity": "warning", "above": 50}, {"severity": "critical", "above": 80}],
    }
    rule.update(fields)
    return {key: value for key, value in rule.items() if value is not None}


def refusal(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(data)
    assert caught.value.status == 422
    return caught.value.message


def test_a_threshold_rule_is_read_with_its_defaults() -> None:
    rule = parse_rule(threshold(wards=[27073, "27074"]))
    assert isinstance(rule, ThresholdRule)
    assert rule.wards == ("27073", "27074")  # YAML reads ward codes as numbers
    assert [(level.severity, level.above) for level in rule.levels] == [
        ("warning", 50),
        ("critical", 80),
    ]
    assert (rule.enabled, rule.hysteresis, rule.for_seconds) == (True, 0, 0)


def test_vn_aqi_is_an_attribute_of_air_quality_stations_only() -> None:
    assert isinstance(parse_rule(threshold(attribute="vnAqi")), ThresholdRule)
    message = refusal(
        threshold(
            entity_type="FloodMonitoring",
            attribute="vnAqi",
            levels=[{"severity": "warning", "above": 1}],
        )
    )
    assert "attribute: 'vnAqi' is not a numeric attribute of FloodMonitoring" in message


def test_an_unknown_attribute_is_refused_with_the_known_ones() -> None:
    message = refusal(threshold(attribute="pm26"))
    assert message.startswith("rule 'pm25-high': attribute: 'pm26' is not a numeric attribute")
    assert "pm25, pm10" in message


def test_a_text_attribute_cannot_take_a_threshold() -> None:
    message = refusal(
        threshold(
            entity_type="Streetlight",
            attribute="status",
            levels=[{"severity": "warning", "above": 1}],
        )
    )
    assert "attribute: 'status' is not a numeric attribute of Streetlight" in message


def test_an_unknown_entity_type_is_refused() -> None:
    assert "entity_type: 'AirQuality' is not a known entity type" in refusal(
        threshold(entity_type="AirQuality")
    )


def test_an_empty_ward_set_is_refused_with_the_issue_s_words() -> None:
    assert refusal(threshold(wards=[])) == (
        "rule 'pm25-high': wards: give at least one ward code, or \"*\" for all"
    )


@pytest.mark.parametrize(
    ("wards", "problem"),
    [
        (["*", "27073"], 'wards: "*" means every ward: give it alone'),
        (["27073", "27073"], "wards: 27073 listed more than once"),
        (["  "], "wards[0]: should not be empty"),
        (None, "wards: is required"),
    ],
)
def test_ward_sets_must_make_sense(wards: list[str] | None, problem: str) -> None:
    assert problem in refusal(threshold(wards=wards))


def test_a_band_with_low_above_high_is_refused() -> None:
    message = refusal(threshold(levels=[{"severity": "warning", "outside": [30, 10]}]))
    assert message == "rule 'pm25-high': levels[0].outside: the band's low 30 is above its high 10"


def test_a_level_gives_exactly_one_condition() -> None:
    both = refusal(threshold(levels=[{"severity": "warning", "above": 50, "below": 5}]))
    assert "levels[0]: give exactly one of above, below, outside (got 2)" in both
    neither = refusal(threshold(levels=[{"severity": "warning"}]))
    assert "levels[0]: give exactly one of above, below, outside (got 0)" in neither
    assert "too short" not in neither.lower() and "should not be empty" not in neither


def test_levels_number_one_to_three() -> None:
    assert "levels: give 1 to 3 levels (got 0)" in refusal(threshold(levels=[]))


def test_a_severity_is_given_to_one_level_only() -> None:
    message = refusal(
        threshold(
            levels=[{"severity": "warning", "above": 50}, {"severity": "warning", "above": 80}]
        )
    )
    assert "levels: severity 'warning' is given to more than one level" in message


@pytest.mark.parametrize(
    "levels",
    [
        [{"severity": "warning", "above": 80}, {"severity": "critical", "above": 50}],
        [{"severity": "critical", "below": 10}, {"severity": "warning", "below": 5}],
        [
            {"severity": "warning", "outside": [5, 50]},
            {"severity": "critical", "outside": [10, 80]},
        ],
        [{"severity": "info", "above": 80}, {"severity": "critical", "outside": [10, 60]}],
    ],
)
def test_a_more_severe_level_must_be_at_least_as_extreme(levels: list[dict[str, Any]]) -> None:
    assert "is less extreme than the" in refusal(threshold(levels=levels))


def test_levels_in_opposite_directions_do_not_contradict() -> None:
    rule = parse_rule(
        threshold(
            attribute="temperature",
            levels=[{"severity": "warning", "below": 10}, {"severity": "critical", "above": 40}],
        )
    )
    assert isinstance(rule, ThresholdRule)


def test_a_level_that_can_never_hold_is_refused() -> None:
    message = refusal(
        threshold(
            entity_type="WasteContainer",
            attribute="fillingLevel",
            levels=[{"severity": "warning", "above": 90}],
        )
    )
    assert "fillingLevel is at most 1 (a fraction: 0.9 means 90 %), so > 90 never holds" in message
    below_zero = threshold(levels=[{"severity": "warning", "below": 0}])
    assert "pm25 is at least 0, so < 0 never holds" in refusal(below_zero)


def test_a_band_reaching_past_one_bound_can_still_hold() -> None:
    band = [{"severity": "warning", "outside": [6.5, 14]}]
    rule = parse_rule(threshold(entity_type="WaterQualityObserved", attribute="pH", levels=band))
    assert isinstance(rule, ThresholdRule)


def test_hysteresis_must_leave_a_band_room_to_clear() -> None:
    band = [{"severity": "warning", "outside": [6.5, 8.5]}]
    data = threshold(entity_type="WaterQualityObserved", attribute="pH", levels=band)
    assert isinstance(parse_rule({**data, "hysteresis": 0.9}), ThresholdRule)
    message = refusal({**data, "hysteresis": 1})
    assert (
        "hysteresis: 1 leaves no value at which the warning level (outside [6.5, 8.5]) clears"
        in message
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"hysteresis": -1}, "hysteresis: should be greater than or equal to 0"),
        ({"for_seconds": -5}, "for_seconds: should be greater than or equal to 0"),
        (
            {"levels": [{"severity": "urgent", "above": 5}]},
            "levels[0].severity: should be 'info', 'warning' or 'critical'",
        ),
        (
            {"levels": [{"severity": "warning", "above": "high"}]},
            "levels[0].above: should be a valid number",
        ),
        (
            {"levels": [{"severity": "warning", "above": float("nan")}]},
            "levels[0].above: should be a finite number",
        ),
        ({"code": "PM25 High"}, "code: use 2 to 64 lower-case letters"),
        ({"code": "-pm25"}, "code: use 2 to 64 lower-case letters"),
        ({"name": "  "}, "name: should not be empty"),
        ({"name": "x" * 201}, "name: is too long (at most 200)"),
        ({"name": "nul\x00"}, "name: control characters are not allowed"),
        ({"colour": "red"}, "colour: is not a field of this kind of rule"),
        ({"kind": "treshold"}, "kind: 'treshold' is not a kind of rule (threshold, rate"),
        ({"kind": None}, "kind: is required (threshold, rate"),
    ],
)
def test_refusals_say_what_is_wrong(fields: dict[str, Any], problem: str) -> None:
    message = refusal(threshold(**fields))
    assert message.startswith("rule ")
    assert problem in message


def test_every_field_at_fault_is_named_in_one_message() -> None:
    message = refusal(threshold(wards=[], attribute="pm26", extra=1))
    assert message.count(";") == 2
    for field in ("wards:", "attribute:", "extra:"):
        assert field in message


def test_a_rule_without_a_code_is_still_named() -> None:
    message = refusal(threshold(code=None))
    assert message.startswith("rule (no code): code: is required")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, "rise, fall: give at least one of them"),
        ({"rise": 0}, "rise: should be greater than 0"),
        ({"rise": 5, "window_seconds": 0}, "window_seconds: should be greater than 0"),
    ],
)
def test_rate_rules(fields: dict[str, Any], problem: str) -> None:
    data = {**threshold(levels=None), "kind": "rate", "window_seconds": 600, "severity": "warning"}
    assert problem in refusal({**data, **fields})
    assert parse_rule({**data, "fall": 20}).kind == "rate"


def test_no_data_rules_may_name_any_attribute_of_the_type() -> None:
    data = {
        **threshold(levels=None, attribute=None),
        "kind": "no_data",
        "silent_seconds": 900,
        "severity": "warning",
    }
    rule = parse_rule(data)
    assert isinstance(rule, NoDataRule) and rule.attribute is None
    assert parse_rule({**data, "attribute": "pm25"}).kind == "no_data"
    assert "attribute: 'status' is not an attribute of AirQualityObserved" in refusal(
        {**data, "attribute": "status"}
    )
    assert "silent_seconds: should be greater than 0" in refusal({**data, "silent_seconds": 0})


def test_stuck_rules() -> None:
    data = {**threshold(levels=None), "kind": "stuck", "seconds": 3600, "severity": "info"}
    assert parse_rule(data).kind == "stuck"
    assert "tolerance: should be greater than or equal to 0" in refusal({**data, "tolerance": -0.1})


def test_state_rules_watch_text_attributes() -> None:
    data = {
        "code": "lamp-fault",
        "kind": "state",
        "name": "Đèn hỏng",
        "entity_type": "Streetlight",
        "attribute": "status",
        "wards": ["*"],
        "values": ["defectiveLamp"],
        "severity": "warning",
    }
    rule = parse_rule(data)
    assert isinstance(rule, StateRule) and rule.values == ("defectiveLamp",)
    assert "values: should not be empty" in refusal({**data, "values": []})
    known = "(known: powerState, status)"
    message = refusal({**data, "attribute": "illuminanceLevel"})
    assert (
        f"attribute: 'illuminanceLevel' is not a text attribute of Streetlight {known}" in message
    )


def composite(**fields: Any) -> dict[str, Any]:
    return {
        "code": "flood-and-traffic",
        "kind": "composite",
        "name": "Ngập và kẹt xe",
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
        **fields,
    }


def test_a_composite_rule_alarms_on_the_second_condition_s_entities() -> None:
    rule = parse_rule(composite())
    assert isinstance(rule, CompositeRule)
    assert (rule.entity_type, rule.attribute) == ("TrafficFlowObserved", "averageVehicleSpeed")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"first": {"entity_type": "Flood", "attribute": "currentLevel", "above": 1}},
            "first.entity_type: 'Flood'",
        ),
        (
            {"first": {"entity_type": "FloodMonitoring", "attribute": "rain", "above": 1}},
            "first.attribute: 'rain' is not a numeric",
        ),
        (
            {"second": {"entity_type": "FloodMonitoring", "attribute": "currentLevel"}},
            "second: give exactly one of above, below (got 0)",
        ),
        (
            {"second": {"entity_type": "WasteContainer", "attribute": "fillingLevel", "above": 1}},
            "second: fillingLevel is at most 1",
        ),
        ({"within_meters": 0}, "within_meters: should be greater than 0"),
        ({"entity_type": "FloodMonitoring"}, "entity_type: is not a field of this kind of rule"),
    ],
)
def test_composite_refusals(fields: dict[str, Any], problem: str) -> None:
    assert problem in refusal(composite(**fields))
