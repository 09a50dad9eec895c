"""Readings: from an attribute document to validated values, and from values to stored rows.

`split_attributes` takes the attributes of one entity as a device or an NGSI-LD
client sends them (`{attr: value}`, `{attr: {value, observedAt, unitCode}}` or
normalized `{attr: {type: Property, value, …}}`) and separates time series
from the entity's static properties. `store_readings` writes a batch of readings:
observations idempotently on (attribute, observedAt) — COPY on PostgreSQL —, the
hourly rollups of what was new, and each attribute's latest value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import bindparam

from dothi.errors import InvalidInput
from dothi.telemetry.messages import Reading
from dothi.telemetry.models import TEXT_VALUE, EntityAttribute, HourlyRollup, Observation
from dothi.telemetry.partitions import ensure_months, month_of
from dothi.telemetry.types import AttributeSpec, spec_of

FUTURE_TOLERANCE = timedelta(minutes=10)
"""How far ahead of our clock a device's clock may be before its readings are refused."""
RESERVED = frozenset({"id", "type", "@context", "scope", "createdAt", "modifiedAt"})
NAME_LIMIT = 64


# Reading values ----------------------------------------------------------------------------


def split_attributes(
    entity_id: str, entity_type: str, attributes: Mapping[str, Any], now: datetime
) -> tuple[list[Reading], dict[str, Any]]:
    """The observed readings and the static properties (normalized form) of an attribute document.

    Observed: attributes `types.py` describes, and any other with a numeric value.
    Readings without `observedAt` are dated `now`. Raises InvalidInput naming the
    attribute at fault.
    """
    readings: list[Reading] = []
    static: dict[str, Any] = {}
    for name, item in attributes.items():
        if name in RESERVED:
            continue
        if not name or len(name) > NAME_LIMIT:
            raise InvalidInput(f"Attribute name {name[:80]!r} must have 1–{NAME_LIMIT} characters.")
        spec = spec_of(entity_type, name)
        value, observed_at, unit_code = _unpack(item)
        if spec is None and not _is_number(value):
            static[name] = _normalized(item)
            continue
        if value is None:
            continue
        when = _timestamp(name, observed_at, now) if observed_at is not None else now
        readings.append(
            Reading(
                entity_id,
                name,
                when,
                _checked(name, spec, value),
                _unit(name, unit_code) or (spec.unit_code if spec else None),
            )
        )
    return readings, static


def _unpack(item: Any) -> tuple[Any, Any, Any]:
    """Value, observedAt and unitCode of an attribute in any of the accepted shapes."""
    if isinstance(item, Mapping) and "value" in item and item.get("type") != "GeoProperty":
        return item["value"], item.get("observedAt"), item.get("unitCode")
    if isinstance(item, Mapping):
        return item, None, None  # a relationship, a GeoJSON geometry, a structured value
    return item, None, None


def _normalized(item: Any) -> dict[str, Any]:
    """A static attribute in NGSI-LD normalized form."""
    if isinstance(item, Mapping) and item.get("type") in (
        "Property",
        "GeoProperty",
        "Relationship",
    ):
        return dict(item)
    if isinstance(item, Mapping) and item.get("type") in ("Point", "Polygon", "LineString"):
        return {"type": "GeoProperty", "value": dict(item)}
    return {"type": "Property", "value": item}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked(name: str, spec: AttributeSpec | None, value: Any) -> float | str:
    """The value as stored, or InvalidInput if it cannot be one of this attribute."""
    if spec is not None and spec.kind == "text":
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, str | int | float) or len(str(value)) > TEXT_VALUE:
            raise InvalidInput(f"{name}: expected a short text value, got {_show(value)}.")
        return str(value)
    if not _is_number(value) or not math.isfinite(value):
        raise InvalidInput(f"{name}: expected a number, got {_show(value)}.")
    number = float(value)
    if spec is not None and (
        (spec.minimum is not None and number < spec.minimum)
        or (spec.maximum is not None and number > spec.maximum)
    ):
        raise InvalidInput(f"{name}: {number:g} is outside [{spec.minimum}, {spec.maximum}].")
    return number


def _show(value: Any) -> str:
    return repr(value)[:60]


def _timestamp(name: str, value: Any, now: datetime) -> datetime:
    """An ISO 8601 time with its zone, not in the future."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            f"{name}: observedAt must be an ISO 8601 time with a zone, got {_show(value)}."
        )
    if moment > now + FUTURE_TOLERANCE:
        raise InvalidInput(f"{name}: observedAt {value} is in the future.")
    return moment.astimezone(UTC)


def _unit(name: str, unit_code: Any) -> str | None:
    if unit_code is None:
        return None
    if not isinstance(unit_code, str) or not 1 <= len(unit_code) <= 16:
        raise InvalidInput(f"{name}: unitCode must be a UN/CEFACT code of 1–16 characters.")
    return unit_code


# Storing readings --------------------------------------------------------------------------


@dataclass(slots=True)
class _Rollup:
    count: int
    total: float
    minimum: float
    maximum: float
    last: float
    last_at: datetime

    def add(self, value: float, at: datetime) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if at >= self.last_at:
            self.last, self.last_at = value, at


Row = tuple[int, datetime, float | None, str | None]


@dataclass(slots=True)
class Stored:
    """What a batch of readings added: how many, which attributes of which entities, up to when."""

    count: int = 0
    changes: dict[str, set[str]] = field(default_factory=dict)
    newest: datetime | None = None


def store_readings(session: Session, readings: Sequence[Reading]) -> Stored:
    """Store readings of existing entities; duplicates of stored ones are ignored."""
    if not readings:
        return Stored()
    series = _series_ids(session, readings)
    rows: dict[tuple[int, datetime], Row] = {}
    for reading in readings:
        key = (series[reading.entity_id, reading.attribute], reading.observed_at)
        number = reading.value if isinstance(reading.value, float) else None
        word = reading.value if isinstance(reading.value, str) else None
        rows.setdefault(key, (key[0], key[1], number, word))
    ensure_months(session, {month_of(at) for _, at in rows})
    new = _insert_new(session, list(rows.values()))
    _update_rollups(session, new)
    _update_latest(session, new, readings, series)
    names = {series_id: key for key, series_id in series.items()}
    stored = Stored(len(new), newest=max((row[1] for row in new), default=None))
    for row in new:
        entity_id, attribute = names[row[0]]
        stored.changes.setdefault(entity_id, set()).add(attribute)
    return stored


def _series_ids(session: Session, readings: Iterable[Reading]) -> dict[tuple[str, str], int]:
    """The attribute (series) id of every (entity, attribute), created when missing."""
    wanted = {(r.entity_id, r.attribute): r.unit_code for r in readings}
    entity_ids = {entity for entity, _ in wanted}
    query = select(EntityAttribute.entity_id, EntityAttribute.name, EntityAttribute.id)
    found = {
        (entity, name): series
        for entity, name, series in session.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids))
        )
    }
    missing = [
        {"entity_id": entity, "name": name, "unit_code": unit}
        for (entity, name), unit in wanted.items()
        if (entity, name) not in found
    ]
    if missing:
        # Another writer (a second ingest worker) may create the same series meanwhile.
        session.execute(_insert(session, EntityAttribute).on_conflict_do_nothing(), missing)
        names = {m["name"] for m in missing}
        for entity, name, series in session.execute(
            query.where(EntityAttribute.entity_id.in_(entity_ids), EntityAttribute.name.in_(names))
        ):
            found[entity, name] = series
    return found


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _insert_new(session: Session, rows: list[Row]) -> list[Row]:
    """Insert the rows not stored yet; returns those."""
    if session.get_bind().dialect.name == "postgresql":
        return _copy_new(session, rows)
    # SQLite has one writer at a time: what is not there now will not appear before our commit.
    series = {row[0] for row in rows}
    times = [row[1] for row in rows]
    stored = select(Observation.attribute_id, Observation.observed_at).where(
        Observation.attribute_id.in_(series),
        Observation.observed_at.between(min(times), max(times)),
    )
    existing = {(series_id, at) for series_id, at in session.execute(stored)}
    new = [row for row in rows if (row[0], row[1]) not in existing]
    if new:
        session.execute(
            Observation.__table__.insert(),  # type: ignore[attr-defined]
            [{"attribute_id": s, "observed_at": t, "number": n, "text": w} for s, t, n, w in new],
        )
    return new


STAGE = "observation_stage"


def _copy_new(session: Session, rows: list[Row]) -> list[Row]:
    """COPY into a temporary table, then move what is new; PostgreSQL says which rows those were."""
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (LIKE observations) ON COMMIT DELETE ROWS"
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {STAGE} (attribute_id, observed_at, number, text) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    result = connection.exec_driver_sql(
        f"INSERT INTO observations SELECT * FROM {STAGE} "  # noqa: S608 (constant names)
        "ON CONFLICT DO NOTHING RETURNING attribute_id, observed_at, number, text"
    )
    connection.exec_driver_sql(f"TRUNCATE {STAGE}")
    return [(s, t, n, w) for s, t, n, w in result]


def _update_rollups(session: Session, new: list[Row]) -> None:
    """Fold the numeric values just stored into their hours' aggregates."""
    hours: dict[tuple[int, datetime], _Rollup] = {}
    for series, at, number, _ in new:
        if number is None:
            continue
        key = (series, at.astimezone(UTC).replace(minute=0, second=0, microsecond=0))
        rollup = hours.get(key)
        if rollup is None:
            hours[key] = _Rollup(1, number, number, number, number, at)
        else:
            rollup.add(number, at)
    if not hours:
        return
    is_pg = session.get_bind().dialect.name == "postgresql"
    least, greatest = (func.least, func.greatest) if is_pg else (func.min, func.max)
    table = HourlyRollup.__table__
    statement = _insert(session, HourlyRollup)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.attribute_id, table.c.hour],
        set_={
            "count": table.c.count + excluded.count,
            "total": table.c.total + excluded.total,
            "minimum": least(table.c.minimum, excluded.minimum),
            "maximum": greatest(table.c.maximum, excluded.maximum),
            "last": _newer(excluded.last_at, table.c.last_at, excluded.last, table.c.last),
            "last_at": greatest(table.c.last_at, excluded.last_at),
        },
    )
    session.execute(
        statement,
        [
            {
                "attribute_id": series,
                "hour": hour,
                "count": r.count,
                "total": r.total,
                "minimum": r.minimum,
                "maximum": r.maximum,
                "last": r.last,
                "last_at": r.last_at,
            }
            for (series, hour), r in hours.items()
        ],
    )


def _newer(new_at: Any, old_at: Any, new: Any, old: Any) -> Any:
    """`new` if it was observed at or after `old`, else `old`."""
    return case((new_at >= old_at, new), else_=old)


def _update_latest(
    session: Session,
    new: list[Row],
    readings: Sequence[Reading],
    series: Mapping[tuple[str, str], int],
) -> None:
    """Move each attribute's latest value forward to the newest reading just stored."""
    units = {series[r.entity_id, r.attribute]: r.unit_code for r in readings}
    newest: dict[int, Row] = {}
    for row in new:
        held = newest.get(row[0])
        if held is None or row[1] > held[1]:
            newest[row[0]] = row
    if not newest:
        return
    table = EntityAttribute.__table__
    statement = (
        update(table)  # type: ignore[arg-type]
        .where(
            table.c.id == bindparam("series"),
            (table.c.observed_at.is_(None)) | (table.c.observed_at <= bindparam("at")),
        )
        .values(
            observed_at=bindparam("at"),
            number=bindparam("num"),
            text=bindparam("word"),
            unit_code=func.coalesce(bindparam("unit"), table.c.unit_code),
        )
    )
    session.connection().execute(
        statement,
        [
            {"series": s, "at": at, "num": n, "word": w, "unit": units.get(s)}
            for s, at, n, w in newest.values()
        ],
    )
