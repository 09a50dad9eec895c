"""The rules of a deployment: created, replaced, removed, imported and exported as YAML.

A rule is stored as the document its schema validated (`schemas.parse_rule`), so the
engine reads back exactly what an operator wrote. Ward codes must name wards that
exist today; every change is in the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.alarms.lifecycle import clear
from dothi.alarms.models import Alarm, AlarmRule, RuleMemory
from dothi.alarms.schemas import ALL_WARDS, RuleDefinition, parse_rule
from dothi.core.clock import Clock, local_date
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.service import unit_ids_by_code

_DOCUMENT: TypeAdapter[RuleDefinition] = TypeAdapter(RuleDefinition)


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did: the codes created and the codes replaced."""

    created: list[str]
    replaced: list[str]


def document(rule: RuleDefinition) -> dict[str, Any]:
    """A rule as stored and exported: JSON, without the fields left at nothing."""
    dumped: dict[str, Any] = _DOCUMENT.dump_python(rule, mode="json", exclude_none=True)
    return dumped


def definition(rule: AlarmRule) -> RuleDefinition:
    """The stored rule as its schema reads it."""
    return parse_rule(rule.definition)


def list_rules(session: Session, actor: Principal) -> list[AlarmRule]:
    """Every rule, by code."""
    actor.require("alarms:read")
    return list(session.scalars(select(AlarmRule).order_by(AlarmRule.code)))


def get_rule(session: Session, actor: Principal, code: str) -> AlarmRule:
    actor.require("alarms:read")
    return _rule(session, code)


def create_rule(
    session: Session, actor: Principal, rule: RuleDefinition, clock: Clock, zone: str
) -> AlarmRule:
    """Store a new rule; Conflict if its code is taken."""
    actor.require("alarms:manage")
    if session.scalar(select(AlarmRule.id).where(AlarmRule.code == rule.code)) is not None:
        raise Conflict(f"A rule with code {rule.code!r} exists already.")
    return _store(session, actor, None, rule, clock, zone)


def replace_rule(
    session: Session, actor: Principal, code: str, rule: RuleDefinition, clock: Clock, zone: str
) -> AlarmRule:
    """Replace a rule's definition; the code in the path and in the body must agree."""
    actor.require("alarms:manage")
    if rule.code != code:
        raise InvalidInput(f"The rule's code {rule.code!r} differs from {code!r} in the address.")
    return _store(session, actor, _rule(session, code), rule, clock, zone)


def delete_rule(session: Session, actor: Principal, code: str, clock: Clock) -> None:
    """Remove a rule; its open alarms are cleared and stay in the record with its code."""
    actor.require("alarms:manage")
    held = _rule(session, code)
    _retire(session, actor, held, "rule deleted", clock)
    session.delete(held)
    _audit(session, actor, clock, "alarm_rule.deleted", held.id, code)


def import_rules(
    session: Session, actor: Principal, rules: Sequence[RuleDefinition], clock: Clock, zone: str
) -> Imported:
    """Create or replace each rule by its code, all or nothing (the caller's transaction)."""
    actor.require("alarms:manage")
    codes = [rule.code for rule in rules]
    held = {
        rule.code: rule
        for rule in session.scalars(select(AlarmRule).where(AlarmRule.code.in_(codes)))
    }
    for rule in rules:
        _store(session, actor, held.get(rule.code), rule, clock, zone)
    return Imported(
        [code for code in codes if code not in held], [code for code in codes if code in held]
    )


def ensure_rules(
    session: Session, rules: Sequence[RuleDefinition], actor: Principal, clock: Clock, zone: str
) -> int:
    """Create the rules whose codes are not taken (a deployment's defaults); how many."""
    taken = set(session.scalars(select(AlarmRule.code)))
    missing = [rule for rule in rules if rule.code not in taken]
    for rule in missing:
        _store(session, actor, None, rule, clock, zone)
    return len(missing)


def ward_ids(session: Session, rule: RuleDefinition, day: date) -> set[uuid.UUID] | None:
    """The wards a rule watches today (None: all of them).

    A code that names no ward today (merged in a reform since) watches nothing.
    """
    if ALL_WARDS in rule.wards:
        return None
    return set(unit_ids_by_code(session, set(rule.wards), day).values())


def _check_wards(session: Session, rule: RuleDefinition, day: date) -> None:
    """InvalidInput naming the rule's ward codes that name no ward today."""
    if ALL_WARDS in rule.wards:
        return
    unknown = sorted(set(rule.wards) - set(unit_ids_by_code(session, set(rule.wards), day)))
    if unknown:
        raise InvalidInput(f"Rule {rule.code!r}: wards: no ward has the code {', '.join(unknown)}.")


def _store(
    session: Session,
    actor: Principal,
    held: AlarmRule | None,
    rule: RuleDefinition,
    clock: Clock,
    zone: str,
) -> AlarmRule:
    now = clock.now()
    _check_wards(session, rule, local_date(now, zone))
    if held is not None:  # judged afresh under its new definition
        _retire(session, actor, held, "rule changed", clock)
    stored = held or AlarmRule(code=rule.code, created_by=actor.username[:64], created_at=now)
    stored.kind, stored.entity_type = rule.kind, rule.entity_type
    stored.definition, stored.enabled, stored.modified_at = document(rule), rule.enabled, now
    if held is None:
        session.add(stored)
    session.flush()
    action = "alarm_rule.created" if held is None else "alarm_rule.replaced"
    _audit(session, actor, clock, action, stored.id, rule.code)
    return stored


def _retire(session: Session, actor: Principal, rule: AlarmRule, note: str, clock: Clock) -> None:
    """Clear the rule's open alarms and forget what it remembered about entities."""
    for alarm in session.scalars(
        select(Alarm).where(Alarm.rule_id == rule.id, Alarm.open_key.is_not(None))
    ):
        clear(session, alarm, actor.username[:64], note, clock)
    session.execute(delete(RuleMemory).where(RuleMemory.rule_id == rule.id))


def _rule(session: Session, code: str) -> AlarmRule:
    rule = session.scalar(select(AlarmRule).where(AlarmRule.code == code))
    if rule is None:
        raise NotFound(f"No rule has the code {code!r}.")
    return rule


def _audit(
    session: Session, actor: Principal, clock: Clock, action: str, rule_id: uuid.UUID, code: str
) -> None:
    audit.record(
        session,
        clock,
        actor.username,
        action,
        object_type="alarm_rule",
        object_id=rule_id,
        detail={"code": code},
    )
