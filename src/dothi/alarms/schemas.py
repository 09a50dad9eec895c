"""Rule definitions as operators write them (API, YAML), refused with messages saying what is wrong.

A rule watches the entities of one type in a set of wards. Its `kind` says how:
- `threshold`: a numeric attribute above, below or outside a band, in up to three levels
  of severity, with hysteresis and a `for` duration;
- `rate`: a rise or fall of at least so much within a window;
- `no_data`: an entity silent for longer than so many seconds;
- `stuck`: a value that has not moved (within a tolerance) for so many seconds;
- `state`: a text attribute taking one of some values (a streetlight's `status` is
  `defectiveLamp`), optionally for a while;
- `composite`: two conditions on entities near each other within a time window; the alarm
  is raised on the entity of the `second` condition.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from dothi.accounts.schemas import storable_text
from dothi.alarms import aqi
from dothi.errors import InvalidInput
from dothi.telemetry.types import ENTITY_TYPES, AttributeSpec, spec_of

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
"""Alarm severities, least severe first."""
ALL_WARDS = "*"
CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,63}$"
Kind = Literal["threshold", "rate", "no_data", "stuck", "state", "composite"]
KINDS: tuple[Kind, ...] = ("threshold", "rate", "no_data", "stuck", "state", "composite")


def rank(severity: Severity) -> int:
    """The order of a severity: info 0, warning 1, critical 2."""
    return SEVERITIES.index(severity)


def _number_as_text(value: Any) -> Any:
    """YAML reads the ward code 27073 as a number; it is a code."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_STORABLE = AfterValidator(storable_text)  # after the constraints, which strip first
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _STORABLE
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), _STORABLE]
WardCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    _STORABLE,
    BeforeValidator(_number_as_text),
]
TextValue = Name
Seconds = Annotated[int, Field(gt=0)]
NonNegativeSeconds = Annotated[int, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


def _attribute_names(entity_type: str, numeric: bool | None) -> list[str]:
    """The attributes of a type: numeric ones (True), text ones (False) or all (None)."""
    names = [
        spec.name
        for spec in ENTITY_TYPES[entity_type].attributes
        if numeric is None or (spec.kind == "number") == numeric
    ]
    derived = entity_type == aqi.ENTITY_TYPE and numeric is not False
    return [*names, aqi.ATTRIBUTE] if derived else names


def numeric_spec(entity_type: str, attribute: str) -> AttributeSpec | None:
    """The spec of a numeric attribute of a type, VN_AQI included; None if not one."""
    if (entity_type, attribute) == (aqi.ENTITY_TYPE, aqi.ATTRIBUTE):
        return aqi.SPEC
    spec = spec_of(entity_type, attribute)
    return spec if spec is not None and spec.kind == "number" else None


def _attribute_of(info: ValidationInfo, attribute: str, numeric: bool | None) -> str:
    """`attribute`, if the (already valid) entity type has it; a ValueError saying which it has."""
    entity_type = info.data.get("entity_type")
    if entity_type is None or attribute in _attribute_names(entity_type, numeric):
        return attribute
    what = {True: "a numeric attribute", False: "a text attribute", None: "an attribute"}[numeric]
    known = ", ".join(_attribute_names(entity_type, numeric)) or "none"
    raise ValueError(f"'{attribute}' is not {what} of {entity_type} (known: {known})")


def _known_type(entity_type: str) -> str:
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"'{entity_type}' is not a known entity type ({', '.join(ENTITY_TYPES)})")
    return entity_type


def _exactly_one(model: BaseModel, names: tuple[str, ...]) -> None:
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(names)} (got {len(given)})")


def short_number(value: float) -> str:
    """A number as messages show it: 212, 0.95, -1.5 (at most three decimals)."""
    return format(value, ".3f").rstrip("0").rstrip(".")


def _unreachable(spec: AttributeSpec | None, above: float | None, below: float | None) -> str:
    """Why `> above` and `< below` (those given) can never hold within the attribute's bounds.

    '' when one of them can.
    """
    if spec is None:
        return ""
    fraction = " (a fraction: 0.9 means 90 %)" if spec.maximum == 1 else ""
    sides = []
    if above is not None:
        if spec.maximum is None or above < spec.maximum:
            return ""
        sides.append(f"at most {short_number(spec.maximum)}{fraction}, so > {short_number(above)}")
    if below is not None:
        if spec.minimum is None or below > spec.minimum:
            return ""
        sides.append(f"at least {short_number(spec.minimum)}, so < {short_number(below)}")
    return f"{spec.name} is {' and '.join(sides)} never holds" if sides else ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Level(_Strict):
    """One level of a threshold: value > above, value < below, or value outside [low, high]."""

    severity: Severity
    above: float | None = None
    below: float | None = None
    outside: tuple[float, float] | None = None

    @field_validator("outside")
    @classmethod
    def _ordered(cls, band: tuple[float, float] | None) -> tuple[float, float] | None:
        if band is not None and band[0] > band[1]:
            low, high = (short_number(bound) for bound in band)
            raise ValueError(f"the band's low {low} is above its high {high}")
        return band

    @model_validator(mode="after")
    def _one_condition(self) -> Level:
        _exactly_one(self, ("above", "below", "outside"))
        return self

    @property
    def upper(self) -> float | None:
        """The level holds when the value is above this."""
        return self.outside[1] if self.outside is not None else self.above

    @property
    def lower(self) -> float | None:
        """The level holds when the value is below this."""
        return self.outside[0] if self.outside is not None else self.below

    def describe(self) -> str:
        """The condition in short: `> 200`, `< 5`, `outside [6.5, 8.5]`."""
        if self.outside is not None:
            low, high = self.outside
            return f"outside [{short_number(low)}, {short_number(high)}]"
        if self.above is not None:
            return f"> {short_number(self.above)}"
        assert self.below is not None  # exactly one of the three is given
        return f"< {short_number(self.below)}"


def _less_extreme(higher: Level, lower: Level) -> bool:
    """Whether a more severe level holds sooner than a less severe one in some direction."""
    up = higher.upper is not None and lower.upper is not None and higher.upper < lower.upper
    down = higher.lower is not None and lower.lower is not None and higher.lower > lower.lower
    return up or down


class Condition(_Strict):
    """One side of a composite rule: an attribute of entities of a type above or below a value."""

    entity_type: Annotated[str, AfterValidator(_known_type)]
    attribute: str
    above: float | None = None
    below: float | None = None

    @field_validator("attribute")
    @classmethod
    def _numeric(cls, attribute: str, info: ValidationInfo) -> str:
        return _attribute_of(info, attribute, numeric=True)

    @model_validator(mode="after")
    def _one_reachable_condition(self) -> Condition:
        _exactly_one(self, ("above", "below"))
        problem = _unreachable(
            numeric_spec(self.entity_type, self.attribute), self.above, self.below
        )
        if problem:
            raise ValueError(problem)
        return self


class _Rule(_Strict):
    code: Code
    kind: Kind
    name: Name
    description: Description | None = None
    wards: tuple[WardCode, ...]
    enabled: bool = True

    @field_validator("wards")
    @classmethod
    def _some_wards(cls, wards: tuple[str, ...]) -> tuple[str, ...]:
        if not wards:
            raise ValueError(f'give at least one ward code, or "{ALL_WARDS}" for all')
        if ALL_WARDS in wards and len(wards) > 1:
            raise ValueError(f'"{ALL_WARDS}" means every ward: give it alone')
        repeated = sorted({ward for ward in wards if wards.count(ward) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return wards


class _TypedRule(_Rule):
    entity_type: Annotated[str, AfterValidator(_known_type)]


class _NumericRule(_TypedRule):
    attribute: str

    @field_validator("attribute")
    @classmethod
    def _numeric(cls, attribute: str, info: ValidationInfo) -> str:
        return _attribute_of(info, attribute, numeric=True)


class ThresholdRule(_NumericRule):
    """Raise when a value passes a level; clear once it is back by `hysteresis`."""

    kind: Literal["threshold"]
    levels: tuple[Level, ...]
    hysteresis: NonNegative = 0.0
    for_seconds: NonNegativeSeconds = 0

    @field_validator("levels")
    @classmethod
    def _consistent(cls, levels: tuple[Level, ...], info: ValidationInfo) -> tuple[Level, ...]:
        if not 1 <= len(levels) <= len(SEVERITIES):
            raise ValueError(f"give 1 to {len(SEVERITIES)} levels (got {len(levels)})")
        severities = [level.severity for level in levels]
        for severity in sorted(set(severities), key=rank):
            if severities.count(severity) > 1:
                raise ValueError(f"severity '{severity}' is given to more than one level")
        ordered = sorted(levels, key=lambda level: rank(level.severity))
        for lower, higher in itertools.pairwise(ordered):
            if _less_extreme(higher, lower):
                raise ValueError(
                    f"the {higher.severity} level ({higher.describe()}) is less extreme than "
                    f"the {lower.severity} level ({lower.describe()})"
                )
        spec = numeric_spec(info.data.get("entity_type", ""), info.data.get("attribute", ""))
        for level in levels:
            problem = _unreachable(spec, level.upper, level.lower)
            if problem:
                raise ValueError(f"the {level.severity} level: {problem}")
        return levels

    @field_validator("hysteresis")
    @classmethod
    def _clearable(cls, hysteresis: float, info: ValidationInfo) -> float:
        for level in info.data.get("levels", ()):
            if level.outside is not None and 2 * hysteresis >= level.outside[1] - level.outside[0]:
                raise ValueError(
                    f"{short_number(hysteresis)} leaves no value at which the "
                    f"{level.severity} level ({level.describe()}) clears"
                )
        return hysteresis

    def level(self, severity: Severity) -> Level:
        """The level of a severity (KeyError if the rule has none)."""
        found = {level.severity: level for level in self.levels}
        return found[severity]


class RateRule(_NumericRule):
    """Raise when the value rose (or fell) by at least so much within the window."""

    kind: Literal["rate"]
    window_seconds: Seconds
    rise: Positive | None = None
    fall: Positive | None = None
    severity: Severity

    @model_validator(mode="after")
    def _direction(self) -> RateRule:
        if self.rise is None and self.fall is None:
            raise ValueError("rise, fall: give at least one of them")
        return self


class NoDataRule(_TypedRule):
    """Raise when an entity (or one attribute of it) has been silent for too long."""

    kind: Literal["no_data"]
    attribute: str | None = None
    silent_seconds: Seconds
    severity: Severity

    @field_validator("attribute")
    @classmethod
    def _known(cls, attribute: str | None, info: ValidationInfo) -> str | None:
        return None if attribute is None else _attribute_of(info, attribute, numeric=None)


class StuckRule(_NumericRule):
    """Raise when the value stayed within ±tolerance for `seconds` (a frozen sensor)."""

    kind: Literal["stuck"]
    seconds: Seconds
    tolerance: NonNegative = 0.0
    severity: Severity


class StateRule(_TypedRule):
    """Raise while a text attribute takes one of `values` (for `for_seconds`, if given)."""

    kind: Literal["state"]
    attribute: str
    values: Annotated[tuple[TextValue, ...], Field(min_length=1)]
    severity: Severity
    for_seconds: NonNegativeSeconds = 0

    @field_validator("attribute")
    @classmethod
    def _text(cls, attribute: str, info: ValidationInfo) -> str:
        return _attribute_of(info, attribute, numeric=False)


class CompositeRule(_Rule):
    """Raise on an entity meeting `second` when one meeting `first` is near in space and time."""

    kind: Literal["composite"]
    first: Condition
    second: Condition
    within_meters: Positive
    within_seconds: Seconds
    severity: Severity

    @property
    def entity_type(self) -> str:
        """The type of the entities the alarm is raised on: the second condition's."""
        return self.second.entity_type

    @property
    def attribute(self) -> str:
        """The attribute watched on those entities."""
        return self.second.attribute


RuleDefinition = Annotated[
    ThresholdRule | RateRule | NoDataRule | StuckRule | StateRule | CompositeRule,
    Field(discriminator="kind"),
]
"""A rule of any kind, told apart by its `kind`."""
SampledRule = ThresholdRule | RateRule | StuckRule | StateRule
"""The kinds judged on an entity's samples of one attribute."""

_RULE: TypeAdapter[RuleDefinition] = TypeAdapter(RuleDefinition)


def _where(loc: Iterable[int | str]) -> str:
    """`('levels', 0, 'outside')` → `levels[0].outside`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _plain(error: ErrorDetails) -> str:
    """One Pydantic complaint in plain words, with the field it is about."""
    kinds = ", ".join(KINDS)
    loc = error["loc"][1:] if error["loc"] and error["loc"][0] in KINDS else error["loc"]
    where = _where(loc)
    match error["type"]:
        case "union_tag_not_found":
            return f"kind: is required ({kinds})"
        case "union_tag_invalid":
            return f"kind: '{error['ctx']['tag']}' is not a kind of rule ({kinds})"
        case "missing":
            message = "is required"
        case "extra_forbidden":
            message = "is not a field of this kind of rule"
        case "string_pattern_mismatch" if where == "code":
            message = "use 2 to 64 lower-case letters, digits, '-' or '_', not starting with - or _"
        case "too_short" | "string_too_short":
            message = "should not be empty"
        case "too_long" | "string_too_long":
            message = f"is too long (at most {error['ctx']['max_length']})"
        case "value_error":
            message = str(error["ctx"]["error"])
        case _:
            message = error["msg"].replace("Input should be", "should be")
    return f"{where}: {message}" if where else message


def _innermost(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """The errors, less "too short" on a list whose items have errors of their own (Pydantic
    drops a failed item, then finds the list too short)."""

    def inside(loc: tuple[int | str, ...], outer: tuple[int | str, ...]) -> bool:
        return len(loc) > len(outer) and loc[: len(outer)] == outer

    return [
        error
        for error in errors
        if error["type"] != "too_short" or not any(inside(e["loc"], error["loc"]) for e in errors)
    ]


def rule_label(data: Mapping[str, Any], position: int | None = None) -> str:
    """How messages name a rule: `rule 'aqi-high'`, `rule 3 ('aqi-high')`, `rule 3`."""
    code = data.get("code")
    named = f"'{code}'" if isinstance(code, str) and code else ""
    if position is None:
        return f"rule {named or '(no code)'}"
    return f"rule {position} ({named})" if named else f"rule {position}"


def parse_rule(data: Mapping[str, Any], *, position: int | None = None) -> RuleDefinition:
    """A rule from its fields; InvalidInput naming the rule and every field at fault."""
    try:
        return _RULE.validate_python(data)
    except ValidationError as error:
        problems = "; ".join(_plain(item) for item in _innermost(error.errors()))
        raise InvalidInput(f"{rule_label(data, position)}: {problems}") from None
