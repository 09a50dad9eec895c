"""Rules as YAML: the shipped defaults, round trips, and refusals naming the rule at fault."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dothi.alarms.io import default_rules, dump_rules_yaml, load_rules_yaml
from dothi.alarms.schemas import (
    NoDataRule,
    RuleDefinition,
    StateRule,
    ThresholdRule,
    parse_rule,
)
from dothi.errors import InvalidInput

RULE = """
- code: flood-level
  kind: threshold
  name: Ngập nước
  wards: [27073]
  entity_type: FloodMonitoring
  attribute: currentLevel
  levels: [{severity: warning, above: 0.1}]
"""


def refusal(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_rules_yaml(text)
    return caught.value.message


def by_code(rules: list[RuleDefinition]) -> dict[str, RuleDefinition]:
    return {rule.code: rule for rule in rules}


def test_the_defaults_are_the_issue_s_demo_rules() -> None:
    rules = by_code(default_rules())
    assert all(rule.wards == ("*",) and rule.enabled for rule in rules.values())
    aqi = rules["air-quality-vn-aqi"]
    assert isinstance(aqi, ThresholdRule)
    assert (aqi.entity_type, aqi.attribute) == ("AirQualityObserved", "vnAqi")
    assert [(level.severity, level.above) for level in aqi.levels] == [
        ("warning", 150),
        ("critical", 200),
    ]
    flood = rules["flood-level"]
    assert isinstance(flood, ThresholdRule) and flood.attribute == "currentLevel"
    # Metres, as types.py stores water levels: 10 cm and 30 cm.
    assert [level.above for level in flood.levels] == [0.1, 0.3]
    waste = rules["waste-container-full"]
    assert isinstance(waste, ThresholdRule) and waste.levels[0].above == 0.9
    lamp = rules["streetlight-fault"]
    assert isinstance(lamp, StateRule) and "defectiveLamp" in lamp.values


def test_every_simulated_sensor_type_has_a_silence_rule() -> None:
    silent = {r.entity_type: r for r in default_rules() if isinstance(r, NoDataRule)}
    assert set(silent) == {
        "AirQualityObserved",
        "FloodMonitoring",
        "TrafficFlowObserved",
        "WaterQualityObserved",
        "Streetlight",
        "WasteContainer",
    }
    assert silent["FloodMonitoring"].silent_seconds == 15 * 60


def test_the_defaults_round_trip() -> None:
    rules = default_rules()
    assert load_rules_yaml(dump_rules_yaml(rules)) == rules


def test_a_plain_list_and_a_rules_mapping_are_both_read() -> None:
    listed = load_rules_yaml(RULE)
    indented = "\n".join(f"  {line}" for line in RULE.splitlines())
    assert load_rules_yaml(f"rules:\n{indented}") == listed
    assert listed[0].wards == ("27073",)


def test_an_empty_document_has_no_rules() -> None:
    assert load_rules_yaml("") == []
    assert load_rules_yaml("# nothing yet\n") == []


def test_a_syntax_error_gives_its_line() -> None:
    message = refusal("- code: a\n  name: [unclosed\n- code: b\n")
    assert message.startswith("YAML syntax error at line 3, column 7:")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just text", "expected a list of rules, got a string"),
        ("42", "expected a list of rules, got a number"),
        ("rules: 3", "expected a list of rules, or a mapping with only `rules`"),
        ("rules: []\nversion: 2", "a mapping with only `rules` (found version)"),
        (
            "- 3\n- [a]",
            "rule 1: expected a mapping of fields, got a number\n"
            "rule 2: expected a mapping of fields, got a list",
        ),
    ],
)
def test_documents_of_the_wrong_shape_are_refused(text: str, problem: str) -> None:
    assert problem in refusal(text)


def test_every_invalid_rule_is_named_by_position_and_code() -> None:
    text = RULE + RULE.replace("flood-level", "flood-deep").replace("[27073]", "[]") + RULE
    lines = refusal(text).splitlines()
    assert lines == [
        "rule 2 ('flood-deep'): wards: give at least one ward code, or \"*\" for all",
        "rule 3 ('flood-level'): code already used by rule 1",
    ]


def test_a_rule_without_a_code_is_named_by_position() -> None:
    assert refusal("- kind: no_data\n").startswith("rule 1: code: is required")


codes = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{1,20}\Z")
names = st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=40).filter(
    lambda name: name.strip() == name and name
)
values = st.floats(min_value=-1000, max_value=1000, allow_nan=False)


@st.composite
def threshold_rules(draw: st.DrawFn) -> RuleDefinition:
    low = draw(values)
    high = draw(st.floats(min_value=low + 1, max_value=low + 2000))
    conditions: list[dict[str, Any]] = [{"above": high}, {"below": low}, {"outside": [low, high]}]
    level = draw(st.sampled_from(conditions))
    return parse_rule(
        {
            "code": draw(codes),
            "kind": "threshold",
            "name": draw(names),
            "description": draw(st.none() | names),
            "wards": draw(
                st.just(["*"])
                | st.lists(st.from_regex(r"\A[0-9]{5}\Z"), min_size=1, max_size=3, unique=True)
            ),
            "enabled": draw(st.booleans()),
            "entity_type": "FloodMonitoring",
            "attribute": "referenceLevel",  # unbounded: every level can hold
            "levels": [
                {"severity": draw(st.sampled_from(["info", "warning", "critical"])), **level}
            ],
            "hysteresis": draw(st.floats(min_value=0, max_value=0.49)),
            "for_seconds": draw(st.integers(min_value=0, max_value=86_400)),
        }
    )


@given(st.lists(threshold_rules(), max_size=4, unique_by=lambda rule: rule.code))
def test_threshold_rules_round_trip(rules: list[RuleDefinition]) -> None:
    assert load_rules_yaml(dump_rules_yaml(rules)) == rules
