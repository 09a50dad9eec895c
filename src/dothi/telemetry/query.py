"""The NGSI-LD query language (`q`, ETSI GS CIM 009 §4.9) and the `near` geo-query.

`parse_q` turns a query such as `pm25>35;(status=="ok"|status=="warn")` into a tree
that `matches` an entity in normalized form. `;` (AND) binds tighter than `|` (OR);
a term is an attribute path, optionally compared with a value, a list (`a,b`), a
range (`1..5`) or a pattern (`=~`, `!~=`). An attribute path is `attr`,
`attr.subAttribute` (e.g. `pm25.observedAt`) or `attr[member.member]` (a member of a
structured value). A list-valued attribute matches when one of its items does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dothi.core.geo import distance_m
from dothi.errors import InvalidInput

MAX_QUERY = 2000
MAX_DEPTH = 20
METRES_PER_DEGREE = 111_320.0

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|>=|<=|>|<|=~|!~=)
    | (?P<punct>[;|()])
    | (?P<word>[^;|()=!<>"\s]+)
    )""",
    re.VERBOSE,
)
_ATTRIBUTE = re.compile(
    r"^(?P<name>[^\[\].]+)(?P<sub>(?:\.[^\[\].]+)*)(?:\[(?P<member>[^\[\]]+)\])?$"
)


@dataclass(frozen=True, slots=True)
class Term:
    """`path` exists, or `path <op> value` holds."""

    name: str
    sub: tuple[str, ...]
    member: tuple[str, ...]
    op: str | None = None
    value: Any = None

    def matches(self, entity: Mapping[str, Any]) -> bool:
        found = _resolve(entity, self.name, self.sub, self.member)
        if found is _MISSING:
            return False
        if self.op is None:
            return True
        candidates = found if isinstance(found, list) else [found]
        if self.op in ("!=", "!~="):  # no item may match the positive form
            positive = "==" if self.op == "!=" else "=~"
            return not any(_compare(positive, item, self.value) for item in candidates)
        return any(_compare(self.op, item, self.value) for item in candidates)


@dataclass(frozen=True, slots=True)
class Both:
    terms: tuple[Query, ...]

    def matches(self, entity: Mapping[str, Any]) -> bool:
        return all(term.matches(entity) for term in self.terms)


@dataclass(frozen=True, slots=True)
class Either:
    terms: tuple[Query, ...]

    def matches(self, entity: Mapping[str, Any]) -> bool:
        return any(term.matches(entity) for term in self.terms)


Query = Term | Both | Either


@dataclass(frozen=True, slots=True)
class Range:
    low: Any
    high: Any


_MISSING = object()


def parse_q(text: str) -> Query:
    """The query tree of a `q` expression; InvalidInput says what is wrong with it."""
    if not text.strip() or len(text) > MAX_QUERY:
        raise InvalidInput(f"q must have 1–{MAX_QUERY} characters.")
    tokens = _tokens(text)
    depth = 0
    for _, token in tokens:  # bound the parser's recursion
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth > MAX_DEPTH:
            raise InvalidInput(f"q nests parentheses deeper than {MAX_DEPTH}.")
    parser = _Parser(tokens)
    query = parser.disjunction()
    if parser.peek() is not None:
        raise InvalidInput(f"q: unexpected {parser.peek()!r}.")
    return query


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise InvalidInput(f"q: cannot read {text[position : position + 20]!r}.")
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._at = 0

    def peek(self) -> str | None:
        return self._tokens[self._at][1] if self._at < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        if self._at >= len(self._tokens):
            raise InvalidInput("q ends too early.")
        token = self._tokens[self._at]
        self._at += 1
        return token

    def disjunction(self) -> Query:
        terms = [self.conjunction()]
        while self.peek() == "|":
            self._take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else Either(tuple(terms))

    def conjunction(self) -> Query:
        terms = [self.primary()]
        while self.peek() == ";":
            self._take()
            terms.append(self.primary())
        return terms[0] if len(terms) == 1 else Both(tuple(terms))

    def primary(self) -> Query:
        kind, text = self._take()
        if text == "(":
            inner = self.disjunction()
            if self._take()[1] != ")":
                raise InvalidInput("q: a parenthesis is not closed.")
            return inner
        if kind != "word":
            raise InvalidInput(f"q: expected an attribute, got {text!r}.")
        path = _ATTRIBUTE.match(text)
        if path is None:
            raise InvalidInput(f"q: {text!r} is not an attribute path.")
        name, sub = path["name"], tuple(filter(None, path["sub"].split(".")))
        member = tuple(path["member"].split(".")) if path["member"] else ()
        if self._at < len(self._tokens) and self._tokens[self._at][0] == "op":
            op = self._take()[1]
            return Term(name, sub, member, op, self._value(op))
        return Term(name, sub, member)

    def _value(self, op: str) -> Any:
        """The value after an operator: its string and word tokens up to the next `;|()`."""
        parts: list[tuple[str, str]] = []
        while self._at < len(self._tokens) and self._tokens[self._at][0] in ("string", "word"):
            parts.append(self._take())
        if not parts:
            raise InvalidInput(f"q: expected a value after {op}.")
        if op in ("=~", "!~="):
            kind, text = parts[0]
            raw = json.loads(text) if kind == "string" else "".join(t for _, t in parts)
            try:
                return re.compile(raw)
            except re.error as error:
                raise InvalidInput(f"q: bad pattern {raw!r}: {error}.") from None
        items = _items(parts)
        if len(items) > 1 and op in ("==", "!="):
            return items
        if len(items) != 1:
            raise InvalidInput(f"q: a list of values needs == or !=, not {op}.")
        if op in ("==", "!=") and isinstance(items[0], str) and parts[0][0] == "word":
            low, dots, high = items[0].partition("..")
            if dots:
                return Range(_scalar(low), _scalar(high))
        return items[0]


def _items(parts: list[tuple[str, str]]) -> list[Any]:
    """Comma-separated values: quoted strings, and numbers, booleans or times as words."""
    items: list[Any] = []
    for kind, text in parts:
        if kind == "string":
            items.append(json.loads(text))
        else:
            items.extend(_scalar(piece) for piece in text.split(",") if piece != "")
    return items


def _scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _resolve(
    entity: Mapping[str, Any], name: str, sub: tuple[str, ...], member: tuple[str, ...]
) -> Any:
    """The value a path points to in a normalized entity, or _MISSING."""
    if name in ("id", "type") and not sub and not member:
        return entity.get(name, _MISSING)
    node: Any = entity.get(name, _MISSING)
    for part in sub:
        node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
    if isinstance(node, Mapping) and node.get("type") in (
        "Property",
        "GeoProperty",
        "Relationship",
    ):
        node = node.get("object", _MISSING) if node["type"] == "Relationship" else node.get("value")
    for part in member:
        node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
    return _MISSING if node is None else node


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if isinstance(expected, re.Pattern):
        return isinstance(actual, str) and expected.search(actual) is not None
    if isinstance(expected, list):
        return any(_compare(op, actual, item) for item in expected)
    if isinstance(expected, Range):
        return _compare(">=", actual, expected.low) and _compare("<=", actual, expected.high)
    sign = _sign(actual, expected)
    return sign is not None and _ORDER[op](sign)


_ORDER: Mapping[str, Callable[[int], bool]] = {
    ">": lambda sign: sign > 0,
    ">=": lambda sign: sign >= 0,
    "<": lambda sign: sign < 0,
    "<=": lambda sign: sign <= 0,
    "==": lambda sign: sign == 0,
}


def _sign(actual: Any, expected: Any) -> int | None:
    """The sign of `actual - expected` when both are of one comparable kind, else None."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        both = isinstance(actual, bool) and isinstance(expected, bool)
        return None if not both else (0 if actual is expected else None)
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return (actual > expected) - (actual < expected)
    if isinstance(actual, str) and isinstance(expected, str):
        left, right = _as_time(actual), _as_time(expected)
        if left is not None and right is not None:
            return (left > right) - (left < right)
        return (actual > expected) - (actual < expected)
    return None


def _as_time(text: str) -> datetime | None:
    if len(text) < 10 or not text[:4].isdigit() or text[4] != "-":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# Geo-queries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Near:
    """Entities whose location is within `max_distance` (and beyond `min_distance`) metres."""

    lon: float
    lat: float
    max_distance: float | None
    min_distance: float = 0.0

    def box(self) -> tuple[float, float, float, float] | None:
        """West, south, east, north bounds that hold every match (for an SQL prefilter)."""
        if self.max_distance is None:
            return None
        dlat = self.max_distance / METRES_PER_DEGREE
        scale = max(math.cos(math.radians(self.lat)), 0.01)
        dlon = min(self.max_distance / (METRES_PER_DEGREE * scale), 360.0)
        return self.lon - dlon, self.lat - dlat, self.lon + dlon, self.lat + dlat

    def holds(self, lon: float | None, lat: float | None) -> bool:
        if lon is None or lat is None:
            return False
        distance = distance_m(self.lon, self.lat, lon, lat)
        beyond = distance >= self.min_distance
        return beyond and (self.max_distance is None or distance <= self.max_distance)


_DISTANCE = re.compile(r"^(?P<key>maxDistance|minDistance)==(?P<metres>\d+(?:\.\d+)?)$")


def parse_near(georel: str, geometry: str | None, coordinates: str | None) -> Near:
    """The `near;maxDistance==N` geo-query around a Point; InvalidInput for anything else."""
    relation, *modifiers = georel.split(";")
    if relation != "near":
        raise InvalidInput(f"georel {relation!r} is not supported; use near;maxDistance==<metres>.")
    if geometry != "Point":
        raise InvalidInput("georel near needs geometry=Point.")
    lon, lat = parse_point(coordinates)
    distances: dict[str, float] = {}
    for modifier in modifiers:
        found = _DISTANCE.match(modifier)
        if found is None:
            raise InvalidInput(f"georel: cannot read {modifier[:40]!r}; expected maxDistance==N.")
        distances[found["key"]] = float(found["metres"])
    if not distances:
        raise InvalidInput("georel near needs maxDistance==<metres> or minDistance==<metres>.")
    return Near(lon, lat, distances.get("maxDistance"), distances.get("minDistance", 0.0))


def parse_point(coordinates: str | None) -> tuple[float, float]:
    """`[lon,lat]` as JSON, within WGS 84 bounds."""
    try:
        value = json.loads(coordinates or "")
    except ValueError:
        value = None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidInput("coordinates must be a JSON [longitude, latitude] pair.")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("coordinates are outside longitude [-180, 180] / latitude [-90, 90].")
    return lon, lat
