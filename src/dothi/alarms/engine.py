"""The alarm engine: the rules judged on every ingest batch, and on a timer.

`judge_changes` runs after each committed ingest batch, in the process that stored it
(`AlarmEngine` subscribes to the bus: the MQTT worker, the web app): threshold, state,
rate and stuck rules over the attributes the batch changed, VN_AQI recomputed for air
stations whose pollutants changed. `judge_timers` runs every minute: no-data rules,
escalations and reminders. What each rule remembers about each entity is kept in the
database, so several processes may judge in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dothi.alarms import aqi
from dothi.alarms.catalogue import definition, ward_ids
from dothi.alarms.lifecycle import (
    ALARMS_CHANGED,
    RULES_ACTOR,
    AlarmChange,
    Finding,
    Policy,
    clear,
    escalate_due,
    open_key,
    raise_or_update,
)
from dothi.alarms.models import Alarm, AlarmRule, RuleMemory
from dothi.alarms.rules import (
    Hit,
    RuleState,
    Sample,
    Verdict,
    as_number,
    composite_pairs,
    evaluate,
    history_needed,
    silent,
)
from dothi.alarms.schemas import CompositeRule, Condition, NoDataRule, SampledRule
from dothi.core.clock import Clock, as_utc, local_date
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.facts import (
    EntityFacts,
    Value,
    entities_of_type,
    entity_facts,
    hourly_means,
    last_seen,
    latest_values,
    recent_values,
)
from dothi.telemetry.messages import OBSERVATIONS_STORED, ObservationsStored

log = structlog.get_logger(__name__)

SAMPLED = ("threshold", "state", "rate", "stuck")
AQI_EVERY = timedelta(minutes=5)
"""How often a station's VN_AQI is judged at most: an hourly index moves slowly."""
"""Kinds judged on the values an ingest batch brings."""


@dataclass(frozen=True, slots=True)
class _Watch:
    """One rule watching one entity."""

    rule: AlarmRule
    definition: SampledRule
    entity: EntityFacts

    @property
    def key(self) -> str:
        return open_key(self.rule.id, self.entity.id)


def judge_changes(
    session: Session,
    changes: Mapping[str, Collection[str]],
    policy: Policy,
    clock: Clock,
    zone: str,
) -> list[AlarmChange]:
    """Judge the sampled rules on the attributes of the entities a batch changed."""
    now = clock.now()
    facts = entity_facts(session, list(changes))
    found = _composites(session, facts, changes, policy, clock, zone)
    watches = _watches(session, facts, changes, clock, zone)
    if not watches:
        return found
    memories = {
        (m.rule_id, m.entity_id): m
        for m in session.scalars(
            select(RuleMemory).where(
                RuleMemory.rule_id.in_({w.rule.id for w in watches}),
                RuleMemory.entity_id.in_({w.entity.id for w in watches}),
            )
        )
    }
    # VN_AQI is an hourly index: judged again only once it may have moved.
    watches = [
        w for w in watches if not _on_aqi(w) or _due(memories.get((w.rule.id, w.entity.id)), now)
    ]
    held = _open_alarms(session, [w.key for w in watches])
    latest = latest_values(session, facts.keys(), {w.definition.attribute for w in watches})
    indices = _vn_aqi(session, [w.entity for w in watches if _on_aqi(w)], now)
    for watch in watches:
        memory = memories.get((watch.rule.id, watch.entity.id))
        state = RuleState.from_json(memory.state) if memory else RuleState()
        samples = (
            indices.get(watch.entity.id, [])
            if _on_aqi(watch)
            else _samples(session, watch, latest, now)
        )
        state, verdict = evaluate(watch.definition, state, samples, now)
        _remember(session, memory, watch, state, now)
        found += _apply(session, watch.rule, watch.entity, verdict, held, policy, clock)
    return found


def judge_timers(session: Session, policy: Policy, clock: Clock, zone: str) -> list[AlarmChange]:
    """No-data rules over every entity they watch, then escalations and reminders."""
    found = []
    for rule in _enabled(session, {"no_data"}):
        rule_definition = definition(rule)
        if not isinstance(rule_definition, NoDataRule):
            continue
        wards = ward_ids(session, rule_definition, local_date(clock.now(), zone))
        entities = entities_of_type(session, rule.entity_type, wards)
        seen = last_seen(session, [e.id for e in entities], rule_definition.attribute)
        held = _open_alarms(session, [open_key(rule.id, e.id) for e in entities])
        for entity in entities:
            verdict = silent(rule_definition, seen.get(entity.id), clock.now())
            found += _apply(session, rule, entity, verdict, held, policy, clock)
    return found + escalate_due(session, policy, clock)


def _composites(
    session: Session,
    facts: Mapping[str, EntityFacts],
    changes: Mapping[str, Collection[str]],
    policy: Policy,
    clock: Clock,
    zone: str,
) -> list[AlarmChange]:
    """Composite rules whose conditions the batch touched, judged over every entity they pair.

    The alarm is raised on each entity meeting `second` near one meeting `first` (in any
    ward: a rain gauge across the ward border counts), and cleared where that no longer holds.
    """
    touched = {(facts[e].type, n) for e, names in changes.items() if e in facts for n in names}
    found = []
    for rule in _enabled(session, {"composite"}):
        composite = definition(rule)
        if not isinstance(composite, CompositeRule):
            continue
        sides = {(c.entity_type, c.attribute) for c in (composite.first, composite.second)}
        if not sides & touched:
            continue
        wards = ward_ids(session, composite, local_date(clock.now(), zone))
        seconds = entities_of_type(session, composite.second.entity_type, wards)
        since = clock.now() - timedelta(seconds=composite.within_seconds)
        firsts = _hits(session, composite.first, None, since)
        candidates = _hits(session, composite.second, seconds, since)
        pairs = composite_pairs(composite, firsts, candidates)
        paired = {second.entity_id: (first, second) for first, second in pairs}
        held = _open_alarms(session, [open_key(rule.id, e.id) for e in seconds])
        for entity in seconds:
            verdict = Verdict(None, None, "the two conditions no longer meet")
            if entity.id in paired:
                first, second = paired[entity.id]
                what = f"{composite.second.attribute} with {composite.first.attribute}"
                reason = f"{what} of {first.entity_id} nearby"
                verdict = Verdict(composite.severity, as_number(second.value), reason)
            found += _apply(session, rule, entity, verdict, held, policy, clock)
    return found


def _hits(
    session: Session,
    condition: Condition,
    entities: Sequence[EntityFacts] | None,
    since: datetime,
) -> list[Hit]:
    """The placed entities of a condition's type (or those given) with a value since `since`."""
    if entities is None:
        entities = entities_of_type(session, condition.entity_type, None)
    points = {e.id: (e.lon, e.lat) for e in entities if e.lon is not None and e.lat is not None}
    values = latest_values(session, points.keys(), [condition.attribute])
    return [
        Hit(entity_id, *points[entity_id], at, value)
        for (entity_id, _), (at, value) in values.items()
        if at >= since
    ]


def _watches(
    session: Session,
    facts: Mapping[str, EntityFacts],
    changes: Mapping[str, Collection[str]],
    clock: Clock,
    zone: str,
) -> list[_Watch]:
    """Which enabled rule watches which changed entity, by type, ward and attribute."""
    day = local_date(clock.now(), zone)
    watches = []
    for rule in _enabled(session, set(SAMPLED), {f.type for f in facts.values()}):
        rule_definition = definition(rule)
        if not isinstance(rule_definition, SampledRule):
            continue
        wards = ward_ids(session, rule_definition, day)
        for entity in facts.values():
            changed = changes[entity.id]
            watched = rule_definition.attribute in changed or (
                rule_definition.attribute == aqi.ATTRIBUTE and set(aqi.POLLUTANTS) & set(changed)
            )
            if (
                entity.type == rule.entity_type
                and watched
                and (wards is None or entity.admin_unit_id in wards)
            ):
                watches.append(_Watch(rule, rule_definition, entity))
    return watches


def _enabled(
    session: Session, kinds: Collection[str], entity_types: Collection[str] | None = None
) -> Sequence[AlarmRule]:
    query = select(AlarmRule).where(AlarmRule.enabled, AlarmRule.kind.in_(kinds))
    if entity_types is not None:
        query = query.where(AlarmRule.entity_type.in_(entity_types))
    return session.scalars(query.order_by(AlarmRule.code)).all()


def _open_alarms(session: Session, keys: Collection[str]) -> dict[str, Alarm]:
    alarms = session.scalars(select(Alarm).where(Alarm.open_key.in_(keys)))
    return {alarm.open_key: alarm for alarm in alarms if alarm.open_key is not None}


def _on_aqi(watch: _Watch) -> bool:
    return watch.definition.attribute == aqi.ATTRIBUTE


def _due(memory: RuleMemory | None, now: datetime) -> bool:
    """Whether a station's VN_AQI is to be judged again (every `AQI_EVERY` at most)."""
    return memory is None or as_utc(memory.evaluated_at) <= now - AQI_EVERY


def _samples(
    session: Session,
    watch: _Watch,
    latest: Mapping[tuple[str, str], tuple[datetime, Value]],
    now: datetime,
) -> list[Sample]:
    """The values the rule judges: the latest, or its history window."""
    attribute, entity = watch.definition.attribute, watch.entity
    window = history_needed(watch.definition)
    newest = latest.get((entity.id, attribute))
    if not window or newest is None:
        return [] if newest is None else [Sample(*newest)]
    history = recent_values(session, entity.id, attribute, min(now - window, newest[0]))
    return [Sample(at, value) for at, value in history]


def _vn_aqi(
    session: Session, stations: Sequence[EntityFacts], now: datetime
) -> dict[str, list[Sample]]:
    """Each station's VN_AQI now, from the last 12 hours (none without PM2.5 or PM10)."""
    if not stations:
        return {}
    ids = {station.id for station in stations}
    means = hourly_means(session, ids, aqi.POLLUTANTS, now, aqi.NOWCAST_HOURS)
    indices = {station_id: aqi.vn_aqi(means.get(station_id, {})) for station_id in ids}
    return {
        station_id: [Sample(now, float(index.value))]
        for station_id, index in indices.items()
        if index is not None
    }


def _remember(
    session: Session, memory: RuleMemory | None, watch: _Watch, state: RuleState, now: datetime
) -> None:
    if memory is None:
        session.add(
            RuleMemory(
                rule_id=watch.rule.id,
                entity_id=watch.entity.id,
                state=state.to_json(),
                evaluated_at=now,
            )
        )
    else:
        memory.state, memory.evaluated_at = state.to_json(), now


def _apply(
    session: Session,
    rule: AlarmRule,
    entity: EntityFacts,
    verdict: Verdict,
    held: Mapping[str, Alarm],
    policy: Policy,
    clock: Clock,
) -> list[AlarmChange]:
    """Raise, update or clear the (rule, entity) alarm as the verdict says."""
    alarm = held.get(open_key(rule.id, entity.id))
    if verdict.severity is not None:
        finding = Finding(rule, entity, verdict.severity, verdict.value, verdict.reason)
        change = raise_or_update(session, finding, alarm, policy, clock)
        return [change] if change else []
    if alarm is not None:
        return [clear(session, alarm, RULES_ACTOR, verdict.reason, clock)]
    return []


class AlarmEngine:
    """Judges the rules in a process: after each ingest batch on its bus, and on `tick`."""

    def __init__(
        self, database: Database, bus: EventBus, clock: Clock, policy: Policy, zone: str
    ) -> None:
        self.database = database
        self.bus = bus
        self.clock = clock
        self.policy = policy
        self.zone = zone

    def attach(self) -> None:
        """Judge every batch the bus announces."""
        self.bus.subscribe(OBSERVATIONS_STORED, self.on_stored)

    def on_stored(self, event: ObservationsStored) -> None:
        changes = event.changes
        self._judge(lambda s: judge_changes(s, changes, self.policy, self.clock, self.zone))

    def tick(self) -> list[AlarmChange]:
        """No-data rules, escalations and reminders, now."""
        return self._judge(lambda s: judge_timers(s, self.policy, self.clock, self.zone))

    def _judge(self, work: Callable[[Session], list[AlarmChange]]) -> list[AlarmChange]:
        """Run in a transaction (again if another process opened the same alarm meanwhile),
        then announce what changed."""
        try:
            changes = self._once(work)
        except IntegrityError:
            changes = self._once(work)
        if changes:
            self.bus.publish(ALARMS_CHANGED, tuple(changes))
        return changes

    def _once(self, work: Callable[[Session], list[AlarmChange]]) -> list[AlarmChange]:
        with self.database.write() as session:
            return work(session)
