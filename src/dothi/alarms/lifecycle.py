"""The life of an alarm: raised, worse or better, acknowledged, escalated and reminded, cleared.

Every transition writes an `AlarmEvent` (the alarm's history) and an audit entry. The
rules make the automatic transitions as the actor `rules`; people acknowledge and clear
by hand the alarms of their area. An alarm left unacknowledged is escalated to the duty
leader after `Policy.escalate_after`, then reminded every `Policy.remind_every` until
someone acknowledges. A condition that comes back soon after it cleared by itself reopens
the same alarm (a flap) instead of raising a new one. Functions take a Session and never
commit; the engine announces their `AlarmChange`s once committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.alarms.models import Alarm, AlarmEvent, AlarmFeedEntry, AlarmRule, AlarmState
from dothi.alarms.schemas import SEVERITIES, Severity, rank
from dothi.config import Settings
from dothi.core.clock import Clock, as_utc
from dothi.core.events import EventType
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.service import unit_paths
from dothi.telemetry.facts import EntityFacts

RULES_ACTOR = "rules"
"""Who makes the automatic transitions, in the history and the audit log."""
FEED_CHANNEL = "dothi_alarm_feed"
"""The PostgreSQL NOTIFY channel on which each committed feed entry's id is announced."""


@dataclass(frozen=True, slots=True)
class Policy:
    """When unacknowledged alarms escalate and remind, and how soon a return is a flap."""

    escalate_after: timedelta = timedelta(minutes=15)
    remind_every: timedelta = timedelta(minutes=10)
    flap_window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            escalate_after=timedelta(minutes=settings.alarm_escalate_minutes),
            remind_every=timedelta(minutes=settings.alarm_remind_minutes),
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict that a condition holds on an entity."""

    rule: AlarmRule
    entity: EntityFacts
    severity: Severity
    value: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """One committed transition, for live views and notifications."""

    feed_id: int
    alarm_id: uuid.UUID
    kind: str  # raised, reopened, worse, better, acknowledged, escalated, reminded, cleared
    severity: str
    state: str
    rule_code: str
    entity_id: str
    admin_unit_id: uuid.UUID | None
    at: datetime


ALARMS_CHANGED: EventType[tuple[AlarmChange, ...]] = EventType("alarms.changed")


def open_key(rule_id: uuid.UUID, entity_id: str) -> str:
    """The key that lets only one alarm per (rule, entity) be open."""
    return f"{rule_id}:{entity_id}"


def raise_or_update(
    session: Session, finding: Finding, held: Alarm | None, policy: Policy, clock: Clock
) -> AlarmChange | None:
    """Open an alarm for the finding, or move the open one to its severity; None: no change."""
    now = clock.now()
    if held is None:
        return _open(session, finding, policy, clock)
    held.value, held.reason, held.updated_at = finding.value, finding.reason[:300], now
    if finding.severity == held.severity:
        return None
    worse = rank(finding.severity) > SEVERITIES.index(held.severity)
    held.severity = finding.severity
    if worse and held.state == AlarmState.ACKNOWLEDGED:
        held.state = AlarmState.ACTIVE  # worse than what was acknowledged: look again
        held.acknowledged_at = held.acknowledged_by = None
    if worse:
        _start_escalation(held, now, policy)
    return _transition(session, held, "worse" if worse else "better", RULES_ACTOR, clock)


def clear(session: Session, alarm: Alarm, actor: str, note: str, clock: Clock) -> AlarmChange:
    """Close an open alarm: the condition ended (actor `rules`) or a person cleared it."""
    alarm.state, alarm.open_key = AlarmState.CLEARED, None
    alarm.cleared_at, alarm.cleared_by, alarm.updated_at = clock.now(), actor, clock.now()
    alarm.next_escalation_at = alarm.next_reminder_at = None
    return _transition(session, alarm, "cleared", actor, clock, note)


def acknowledge(
    session: Session, actor: Principal, alarm_id: uuid.UUID, note: str | None, clock: Clock
) -> AlarmChange:
    """Acknowledge an active alarm of the actor's area: escalation and reminders stop."""
    alarm = _handled(session, actor, alarm_id)
    if alarm.state != AlarmState.ACTIVE:
        raise Conflict(f"This alarm is {alarm.state} already.")
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at, alarm.acknowledged_by = clock.now(), actor.username
    alarm.next_escalation_at = alarm.next_reminder_at = None
    alarm.updated_at = clock.now()
    return _transition(session, alarm, "acknowledged", actor.username, clock, note)


def clear_by_hand(
    session: Session, actor: Principal, alarm_id: uuid.UUID, reason: str, clock: Clock
) -> AlarmChange:
    """Clear an open alarm of the actor's area; the reason is required and kept."""
    if not reason.strip():
        raise InvalidInput("Say why the alarm is cleared by hand.")
    alarm = _handled(session, actor, alarm_id)
    if alarm.state == AlarmState.CLEARED:
        raise Conflict("This alarm is cleared already.")
    return clear(session, alarm, actor.username, reason.strip(), clock)


def escalate_due(session: Session, policy: Policy, clock: Clock) -> list[AlarmChange]:
    """Escalate the unacknowledged alarms whose time has come and remind the escalated ones."""
    now = clock.now()
    due = session.scalars(
        select(Alarm)
        .where(
            Alarm.state == AlarmState.ACTIVE,
            or_(Alarm.next_escalation_at <= now, Alarm.next_reminder_at <= now),
        )
        .order_by(Alarm.raised_at)
    ).all()
    changes = []
    for alarm in due:
        if alarm.next_escalation_at is not None and as_utc(alarm.next_escalation_at) <= now:
            alarm.escalation_level += 1
            alarm.next_escalation_at = None
            kind = "escalated"
        else:
            alarm.reminders += 1
            kind = "reminded"
        alarm.next_reminder_at = now + policy.remind_every
        changes.append(_transition(session, alarm, kind, RULES_ACTOR, clock))
    return changes


def _open(session: Session, finding: Finding, policy: Policy, clock: Clock) -> AlarmChange:
    """A new alarm, or the one that cleared by itself moments ago reopened (a flap)."""
    now, rule, entity = clock.now(), finding.rule, finding.entity
    recent = session.scalars(
        select(Alarm)
        .where(
            Alarm.rule_id == rule.id,
            Alarm.entity_id == entity.id,
            Alarm.cleared_by == RULES_ACTOR,
            Alarm.cleared_at >= now - policy.flap_window,
        )
        .order_by(Alarm.cleared_at.desc())
        .limit(1)
    ).first()
    alarm = recent or _new_alarm(
        rule.id,
        rule.code,
        str(rule.definition.get("name", rule.code)),
        entity.id,
        entity.type,
        now,
    )
    alarm.admin_unit_id, alarm.lon, alarm.lat = entity.admin_unit_id, entity.lon, entity.lat
    alarm.value = finding.value
    if recent is not None:
        alarm.flaps += 1
    else:
        session.add(alarm)
    _activate(alarm, finding.severity, finding.reason, open_key(rule.id, entity.id), now, policy)
    session.flush()  # the open key is taken now, or IntegrityError: another evaluator was first
    kind = "reopened" if recent is not None else "raised"
    return _transition(session, alarm, kind, RULES_ACTOR, clock, finding.reason)


def _new_alarm(
    rule_id: uuid.UUID | None,
    code: str,
    name: str,
    entity_id: str,
    entity_type: str,
    now: datetime,
) -> Alarm:
    return Alarm(
        rule_id=rule_id,
        rule_code=code,
        rule_name=name[:200],
        entity_id=entity_id,
        entity_type=entity_type,
        raised_at=now,
        escalation_level=0,
        reminders=0,
        flaps=0,
    )


def _activate(
    alarm: Alarm, severity: str, reason: str, key: str, now: datetime, policy: Policy
) -> None:
    """Make the alarm active with its open key, as if nobody had seen it yet."""
    alarm.severity, alarm.reason = severity, reason[:300]
    alarm.state, alarm.open_key, alarm.updated_at = AlarmState.ACTIVE, key, now
    alarm.cleared_at = alarm.cleared_by = None
    alarm.acknowledged_at = alarm.acknowledged_by = None
    _start_escalation(alarm, now, policy)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A condition another domain found, with no rule behind it (a directive past its
    deadline): raised and cleared by that domain, handled like every alarm."""

    code: str  # what kind of condition, e.g. directive-overdue
    name: str
    entity_id: str  # what it is about, e.g. urn:dothi:Directive:<id>:<unit id>
    entity_type: str
    severity: Severity
    reason: str
    admin_unit_id: uuid.UUID | None = None
    lon: float | None = None
    lat: float | None = None


def raise_occurrence(
    session: Session, occurrence: Occurrence, actor: str, policy: Policy, clock: Clock
) -> AlarmChange | None:
    """Open an alarm for the occurrence; None when one is open for it already."""
    key = f"{occurrence.code}:{occurrence.entity_id}"
    if session.scalar(select(Alarm.id).where(Alarm.open_key == key)) is not None:
        return None
    now = clock.now()
    alarm = _new_alarm(
        None,
        occurrence.code,
        occurrence.name,
        occurrence.entity_id,
        occurrence.entity_type,
        now,
    )
    alarm.admin_unit_id, alarm.lon, alarm.lat = (
        occurrence.admin_unit_id,
        occurrence.lon,
        occurrence.lat,
    )
    session.add(alarm)
    _activate(alarm, occurrence.severity, occurrence.reason, key, now, policy)
    session.flush()
    return _transition(session, alarm, "raised", actor, clock, occurrence.reason)


def clear_occurrence(
    session: Session, code: str, entity_id: str, actor: str, note: str, clock: Clock
) -> AlarmChange | None:
    """Clear the open alarm of an occurrence (the condition ended); None if none is open."""
    alarm = session.scalar(select(Alarm).where(Alarm.open_key == f"{code}:{entity_id}"))
    return None if alarm is None else clear(session, alarm, actor, note, clock)


def _start_escalation(alarm: Alarm, now: datetime, policy: Policy) -> None:
    """Warnings and worse escalate if nobody acknowledges them in time."""
    escalates = SEVERITIES.index(alarm.severity) >= rank("warning")
    alarm.next_escalation_at = now + policy.escalate_after if escalates else None
    alarm.next_reminder_at = None


def _handled(session: Session, actor: Principal, alarm_id: uuid.UUID) -> Alarm:
    """The alarm, if the actor may handle alarms and it is in their area."""
    actor.require("alarms:handle")
    alarm = session.get(Alarm, alarm_id, with_for_update=True)
    if alarm is None:
        raise NotFound("No such alarm.")
    place = alarm.admin_unit_id
    actor.require_sight(unit_paths(session, [place]).get(place) if place else None)
    return alarm


def _transition(
    session: Session, alarm: Alarm, kind: str, actor: str, clock: Clock, note: str | None = None
) -> AlarmChange:
    """Write the transition to the alarm's history, the audit log and the feed."""
    now = clock.now()
    note = note[:500] if note else None
    session.add(
        AlarmEvent(
            alarm_id=alarm.id,
            at=now,
            kind=kind,
            severity=alarm.severity,
            actor=actor,
            value=alarm.value,
            note=note,
        )
    )
    audit.record(
        session,
        clock,
        actor,
        f"alarm.{kind}",
        object_type="alarm",
        object_id=alarm.id,
        admin_unit_id=alarm.admin_unit_id,
        detail={"rule": alarm.rule_code, "entity": alarm.entity_id, "severity": alarm.severity},
    )
    entry = AlarmFeedEntry(  # after the audit entry, under its lock: ids in commit order
        alarm_id=alarm.id,
        at=now,
        kind=kind,
        severity=alarm.severity,
        admin_unit_id=alarm.admin_unit_id,
        document=_snapshot(alarm, actor, note),
    )
    session.add(entry)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":  # sent at commit, to every listener
        session.execute(select(func.pg_notify(FEED_CHANNEL, str(entry.id))))
    return AlarmChange(
        entry.id,
        alarm.id,
        kind,
        alarm.severity,
        alarm.state,
        alarm.rule_code,
        alarm.entity_id,
        alarm.admin_unit_id,
        now,
    )


def _snapshot(alarm: Alarm, actor: str, note: str | None) -> dict[str, Any]:
    """The alarm after a transition, as JSON for the feed (no personal data but usernames)."""
    return {
        "alarm": str(alarm.id),
        "rule": alarm.rule_code,
        "rule_name": alarm.rule_name,
        "entity": alarm.entity_id,
        "entity_type": alarm.entity_type,
        "ward": str(alarm.admin_unit_id) if alarm.admin_unit_id else None,
        "lon": alarm.lon,
        "lat": alarm.lat,
        "severity": alarm.severity,
        "state": alarm.state,
        "value": alarm.value,
        "reason": alarm.reason,
        "raised_at": as_utc(alarm.raised_at).isoformat(),
        "escalation_level": alarm.escalation_level,
        "actor": actor,
        "note": note,
    }
