"""Judging rules: pure functions, no I/O and no clock (the time is always passed in).

The engine keeps one `RuleState` per (rule, entity), stored as JSON, and calls:
- `evaluate` for threshold, state, rate and stuck rules, with the entity's samples of the
  rule's attribute, oldest first: every sample at or after `now - history_needed(rule)`,
  and at least the newest one. Threshold and state rules step through the samples newer
  than `state.last_at` only, so passing a sample twice is harmless;
- `silent` for no_data rules, with when the entity (or attribute) was last seen;
- `composite_pairs` for composite rules, with the recent hits of both conditions.
A verdict's severity None means the condition does not hold (any more). Samples that are
not numbers (or, for state rules, not text) are skipped: silence has its own rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dothi.alarms.schemas import (
    SEVERITIES,
    CompositeRule,
    Condition,
    Level,
    NoDataRule,
    RateRule,
    RuleDefinition,
    SampledRule,
    Severity,
    StateRule,
    StuckRule,
    ThresholdRule,
    rank,
    short_number,
)
from dothi.core.geo import distance_m

Value = float | str | bool | None
"""An observed value as telemetry stores it (a bool for attributes like `congested`)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sample:
    """One observed value of an attribute, and when it was observed."""

    at: datetime
    value: Value


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule says now: the severity to raise (None: nothing), the value judged, why."""

    severity: Severity | None
    value: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class RuleState:
    """What a rule remembers about one entity between two evaluations.

    `since` holds, per severity, when its condition began to hold without a break (a raised
    one keeps holding within the hysteresis); `raised` is the most severe one that has held
    for the rule's `for_seconds`; `last_at` is the time of the newest sample judged.
    """

    raised: Severity | None = None
    since: Mapping[Severity, datetime] = field(default_factory=dict)
    last_at: datetime | None = None

    @property
    def pending(self) -> tuple[Severity, datetime] | None:
        """The most severe condition that holds but is not raised yet, and since when."""
        waiting = [s for s in self.since if self.raised is None or rank(s) > rank(self.raised)]
        if not waiting:
            return None
        top = max(waiting, key=rank)
        return top, self.since[top]

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON object (times in ISO 8601)."""
        return {
            "raised": self.raised,
            "since": {severity: at.isoformat() for severity, at in self.since.items()},
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleState:
        """The state `to_json` wrote; ValueError if it is not one."""
        raised, last_at = data.get("raised"), data.get("last_at")
        return cls(
            raised=None if raised is None else _severity(raised),
            since={_severity(s): datetime.fromisoformat(at) for s, at in data["since"].items()},
            last_at=None if last_at is None else datetime.fromisoformat(last_at),
        )


def _severity(value: object) -> Severity:
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise ValueError(f"{value!r} is not a severity")


def as_number(value: Value) -> float | None:
    """A finite number as a float; None for text, booleans and the rest."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Value) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else None


def _seconds(delta: timedelta) -> str:
    return short_number(delta.total_seconds())


def history_needed(rule: RuleDefinition) -> timedelta:
    """How far back before `now` the engine must pass samples (see the module's docstring).

    A stuck rule asks for twice its duration: a run of `seconds` that ends at a recent
    sample then starts inside the history, whatever the sensor's reporting period.
    """
    match rule:
        case ThresholdRule() | StateRule():
            return timedelta(seconds=rule.for_seconds)
        case RateRule():
            return timedelta(seconds=rule.window_seconds)
        case StuckRule():
            return timedelta(seconds=2 * rule.seconds)
        case CompositeRule():
            return timedelta(seconds=rule.within_seconds)
        case NoDataRule():
            return timedelta(0)


def evaluate(
    rule: SampledRule, state: RuleState, samples: Sequence[Sample], now: datetime
) -> tuple[RuleState, Verdict]:
    """Judge an entity's samples (oldest first, new ones included): the new state, the verdict."""
    match rule:
        case ThresholdRule():
            return _threshold(rule, state, samples)
        case StateRule():
            return _state(rule, state, samples)
        case RateRule():
            return _rate(rule, samples, now)
        case StuckRule():
            return _stuck(rule, samples)


# Threshold and state rules: one step per new sample --------------------------------------


Holding = tuple[set[Severity], set[Severity]]
"""The severities whose condition holds, and those that hold within the hysteresis."""


def _step(
    state: RuleState, at: datetime, strict: set[Severity], relaxed: set[Severity], hold: timedelta
) -> RuleState:
    """The state after one sample.

    `strict`: the severities whose condition holds; `relaxed`: those that hold within the
    hysteresis, which keep a level at or below the raised one from clearing.
    """
    since: dict[Severity, datetime] = {}
    for severity in SEVERITIES:
        raised = state.raised is not None and rank(severity) <= rank(state.raised)
        kept = raised and severity in relaxed and severity in state.since
        if severity in strict or kept:
            since[severity] = state.since.get(severity, at)
    held = [severity for severity, start in since.items() if at - start >= hold]
    return RuleState(held[-1] if held else None, since, at)  # `since` is least severe first


def _run(
    state: RuleState,
    samples: Sequence[Sample],
    judge: Callable[[Value], tuple[T, Holding] | None],
    hold: timedelta,
) -> tuple[RuleState, T | None]:
    """Step through the samples newer than the state that `judge` can read (it returns the
    value read and what holds); the new state and the newest value read."""
    latest: T | None = None
    for sample in samples:
        judged = None if state.last_at and sample.at <= state.last_at else judge(sample.value)
        if judged is not None:
            latest, (strict, relaxed) = judged
            state = _step(state, sample.at, strict, relaxed, hold)
    return state, latest


def _held_for(state: RuleState, severity: Severity) -> str:
    start, end = state.since.get(severity), state.last_at
    if start is None or end is None or end == start:
        return ""
    return f" for {_seconds(end - start)} s"


def _waiting(state: RuleState, for_seconds: int) -> str:
    pending = state.pending
    if pending is None or state.last_at is None:
        return ""
    return f", pending for {_seconds(state.last_at - pending[1])} of {for_seconds} s"


def _beyond(level: Level, value: float, margin: float) -> bool:
    """Whether the value passes the level, or is not back from it by `margin`."""
    upper, lower = level.upper, level.lower
    return (upper is not None and value > upper - margin) or (
        lower is not None and value < lower + margin
    )


def _threshold(
    rule: ThresholdRule, state: RuleState, samples: Sequence[Sample]
) -> tuple[RuleState, Verdict]:
    def passed(value: float, margin: float) -> set[Severity]:
        return {level.severity for level in rule.levels if _beyond(level, value, margin)}

    def judge(value: Value) -> tuple[float, Holding] | None:
        x = as_number(value)
        return None if x is None else (x, (passed(x, 0), passed(x, rule.hysteresis)))

    state, value = _run(state, samples, judge, timedelta(seconds=rule.for_seconds))
    return state, Verdict(state.raised, value, _threshold_reason(rule, state, value))


def _threshold_reason(rule: ThresholdRule, state: RuleState, value: float | None) -> str:
    if value is None:
        return f"{rule.attribute}: no new value"
    shown = f"{rule.attribute} {short_number(value)}"
    if state.raised is not None:
        level = rule.level(state.raised)
        if _beyond(level, value, 0):
            return f"{shown} {level.describe()}{_held_for(state, state.raised)}"
        hysteresis = short_number(rule.hysteresis)
        return f"{shown} not back from {level.describe()} by the hysteresis {hysteresis} yet"
    if state.pending is not None:
        level = rule.level(state.pending[0])
        return f"{shown} {level.describe()}{_waiting(state, rule.for_seconds)}"
    return f"{shown} within limits"


def _state(
    rule: StateRule, state: RuleState, samples: Sequence[Sample]
) -> tuple[RuleState, Verdict]:
    def judge(value: Value) -> tuple[str, Holding] | None:
        text = _text(value)
        if text is None:
            return None
        hit: set[Severity] = {rule.severity} if text in rule.values else set()
        return text, (hit, hit)

    state, text = _run(state, samples, judge, timedelta(seconds=rule.for_seconds))
    if text is None:
        reason = f"{rule.attribute}: no new value"
    elif state.raised is not None:
        reason = f"{rule.attribute} is {text}{_held_for(state, state.raised)}"
    else:
        reason = f"{rule.attribute} is {text}{_waiting(state, rule.for_seconds)}"
    return state, Verdict(state.raised, None, reason)


# Rate and stuck rules: judged on a window of samples -------------------------------------


def _numbers(
    samples: Sequence[Sample], start: datetime | None = None
) -> list[tuple[datetime, float]]:
    """The numeric samples, at or after `start` if given."""
    found = [(sample.at, as_number(sample.value)) for sample in samples]
    return [(at, x) for at, x in found if x is not None and (start is None or at >= start)]


def _rate(rule: RateRule, samples: Sequence[Sample], now: datetime) -> tuple[RuleState, Verdict]:
    window = timedelta(seconds=rule.window_seconds)
    points = _numbers(samples, now - window)
    if len(points) < 2:
        reason = f"{rule.attribute}: fewer than 2 values in the last {rule.window_seconds} s"
        return RuleState(), Verdict(None, None, reason)
    (start, first), (end, last) = points[0], points[-1]
    change, span = last - first, _seconds(end - start)
    severity: Severity | None = rule.severity
    if rule.rise is not None and change >= rule.rise:
        reason = f"{rule.attribute} rose {short_number(change)} in {span} s (≥ {rule.rise:g})"
    elif rule.fall is not None and -change >= rule.fall:
        reason = f"{rule.attribute} fell {short_number(-change)} in {span} s (≥ {rule.fall:g})"
    else:
        severity, reason = None, f"{rule.attribute} changed by {short_number(change)} in {span} s"
    return RuleState(raised=severity, last_at=end), Verdict(severity, change, reason)


def _stuck(rule: StuckRule, samples: Sequence[Sample]) -> tuple[RuleState, Verdict]:
    points = _numbers(samples)
    if len(points) < 2:
        return RuleState(), Verdict(None, None, f"{rule.attribute}: fewer than 2 values")
    end, last = points[-1]
    start, low, high = end, last, last
    for at, x in reversed(points[:-1]):
        if max(high, x) - min(low, x) > rule.tolerance:
            break
        start, low, high = at, min(low, x), max(high, x)
    steady = f"{rule.attribute} within ±{short_number(rule.tolerance)} of {short_number(last)}"
    held = f"for {_seconds(end - start)} s"
    severity = rule.severity if end - start >= timedelta(seconds=rule.seconds) else None
    reason = f"{steady} {held}" if severity else f"{steady} {held} only (< {rule.seconds} s)"
    return RuleState(raised=severity, last_at=end), Verdict(severity, last, reason)


# No data and composite rules ---------------------------------------------------------------


def silent(rule: NoDataRule, last_seen: datetime | None, now: datetime) -> Verdict:
    """Whether an entity last seen then is silent now; one never seen is silent."""
    what = f"{rule.attribute}: " if rule.attribute else ""
    if last_seen is None:
        return Verdict(rule.severity, None, f"{what}no data received")
    quiet = (now - last_seen).total_seconds()
    if quiet > rule.silent_seconds:
        reason = f"{what}silent for {short_number(quiet)} s (> {rule.silent_seconds} s)"
        return Verdict(rule.severity, quiet, reason)
    return Verdict(None, quiet, f"{what}last seen {short_number(quiet)} s ago")


@dataclass(frozen=True, slots=True)
class Hit:
    """An entity's value at a time and place, as a candidate for one side of a composite rule."""

    entity_id: str
    lon: float
    lat: float
    at: datetime
    value: Value


def condition_holds(condition: Condition, value: Value) -> bool:
    """Whether a value meets one side of a composite rule (a value that is no number does not)."""
    x = as_number(value)
    if x is None:
        return False
    above, below = condition.above, condition.below
    return (above is not None and x > above) or (below is not None and x < below)


def composite_pairs(
    rule: CompositeRule, firsts: Sequence[Hit], seconds: Sequence[Hit]
) -> list[tuple[Hit, Hit]]:
    """The (first, second) hits that meet their conditions, near enough in space and time.

    An entity is never paired with itself. Grouped by second hit, in the order given.
    """
    window = timedelta(seconds=rule.within_seconds)
    met = [hit for hit in firsts if condition_holds(rule.first, hit.value)]
    return [
        (first, second)
        for second in seconds
        if condition_holds(rule.second, second.value)
        for first in met
        if first.entity_id != second.entity_id
        and abs(first.at - second.at) <= window
        and distance_m(first.lon, first.lat, second.lon, second.lat) <= rule.within_meters
    ]
