"""Directives (chỉ đạo điều hành): a leader instructs units with a deadline; each unit
acknowledges, reports progress and closes its part; reminders before the deadline and an
overdue mark after it; the leader's board by unit and status.

A unit sees and acts only on the directives addressed to it; issuers (`directives:issue`)
see those addressed to units of their area. Others get 403.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.orgunits import get_org_unit, org_unit_places
from dothi.accounts.permissions import SYSTEM, Principal
from dothi.accounts.units import in_scope
from dothi.alarms.lifecycle import Occurrence, Policy, clear_occurrence, raise_occurrence
from dothi.core.clock import Clock, as_utc
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dothi.incidents import timeline
from dothi.incidents.access import visible_incident
from dothi.incidents.models import Directive, DirectiveTarget
from dothi.incidents.schemas import (
    BoardItem,
    BoardRow,
    DirectiveDetail,
    DirectiveIn,
    DirectiveOut,
    DirectiveQuery,
    ProgressIn,
)
from dothi.incidents.timeline import Attachment, Event
from dothi.incidents.views import directive_detail, directive_out, label, target_is_overdue
from dothi.incidents.vocab import Priority, TargetState

REMIND_BEFORE = timedelta(hours=4)
"""How long before its deadline a unit that has not closed its part is reminded."""
TIMER = "directives"
OVERDUE = "directive-overdue"
"""The code of the alarms of overdue directive parts."""
DEFAULT_POLICY = Policy()
"""Who sends reminders and marks overdue parts, in the timeline and the audit log."""


Part = tuple[DirectiveTarget, datetime]
"""A unit's part of a directive, with the directive's deadline (to tell whether it is late)."""


@dataclass(frozen=True, slots=True)
class TargetChange:
    """A timed change of one unit's part: `reminded` or `overdue`."""

    directive_id: uuid.UUID
    org_unit_id: uuid.UUID
    kind: str
    at: datetime


def issue(session: Session, actor: Principal, data: DirectiveIn, clock: Clock) -> Directive:
    """Send a directive to units of the actor's area; each unit's part starts as sent."""
    actor.require("directives:issue")
    now = clock.now()
    if data.deadline <= now:
        raise InvalidInput("The deadline must be in the future.")
    if data.incident_id is not None:
        visible_incident(session, actor, data.incident_id)
    units = list(dict.fromkeys(data.unit_ids))
    places = org_unit_places(session, units)
    for unit in units:
        if unit not in places:
            raise InvalidInput(f"No such organisational unit: {unit}.")
        actor.require_sight(places[unit].path)
    directive = Directive(
        title=data.title,
        content=data.content,
        priority=data.priority,
        deadline=data.deadline,
        incident_id=data.incident_id,
        issued_by=actor.username,
        issued_at=now,
    )
    session.add(directive)
    session.flush()
    remind_at = as_utc(data.deadline) - REMIND_BEFORE
    for unit in units:
        session.add(
            DirectiveTarget(
                directive_id=directive.id,
                org_unit_id=unit,
                admin_unit_id=places[unit].admin_unit_id,
                state=TargetState.SENT,
                percent=0,
                remind_at=remind_at if remind_at > now else None,
            )
        )
        event = Event("sent", data.title, org_unit_id=unit, detail={"priority": data.priority})
        timeline.record(
            session, clock, actor.username, directive, event, places[unit].admin_unit_id
        )
    session.flush()
    return directive


def acknowledge(session: Session, actor: Principal, directive_id: uuid.UUID, clock: Clock) -> Part:
    """The actor's unit has received the directive."""
    directive, target = _own_part(session, actor, directive_id)
    if target.state != TargetState.SENT:
        raise Conflict("Your unit has acknowledged this directive already.")
    target.state, target.acknowledged_at = TargetState.ACKNOWLEDGED, clock.now()
    _record(session, clock, actor.username, directive, target, Event("acknowledged"))
    return target, directive.deadline


def report_progress(
    session: Session, actor: Principal, directive_id: uuid.UUID, data: ProgressIn, clock: Clock
) -> Part:
    """How far the actor's unit is (percent, text, files); 100 % is not closing."""
    directive, target = _own_part(session, actor, directive_id)
    files = [Attachment(a.name, a.ref) for a in data.attachments]
    target.acknowledged_at = target.acknowledged_at or clock.now()
    target.state, target.percent = TargetState.IN_PROGRESS, data.percent
    event = Event("progress", data.text, files, detail={"percent": data.percent})
    _record(session, clock, actor.username, directive, target, event)
    return target, directive.deadline


def close(
    session: Session, actor: Principal, directive_id: uuid.UUID, text: str, clock: Clock
) -> Part:
    """The actor's unit has done what was asked."""
    directive, target = _own_part(session, actor, directive_id)
    now = clock.now()
    target.acknowledged_at = target.acknowledged_at or now
    target.state, target.percent, target.closed_at = TargetState.CLOSED, 100, now
    on_time = now <= as_utc(directive.deadline)
    entity = _overdue_entity(directive, target)
    clear_occurrence(session, OVERDUE, entity, actor.username, "Đơn vị đã hoàn thành", clock)
    _record(
        session,
        clock,
        actor.username,
        directive,
        target,
        Event("closed", text, detail={"on_time": on_time}),
    )
    return target, directive.deadline


def remind_due(
    session: Session, clock: Clock, policy: Policy = DEFAULT_POLICY
) -> list[TargetChange]:
    """Remind the units whose part is still open near the deadline, and mark overdue those
    still open after it: each once, in the timeline and the audit log; an overdue part
    raises an alarm (`directive-overdue`), cleared when the unit closes its part."""
    now = clock.now()
    rows = session.execute(
        select(Directive, DirectiveTarget)
        .join(DirectiveTarget, DirectiveTarget.directive_id == Directive.id)
        .where(
            DirectiveTarget.state != TargetState.CLOSED,
            (
                (DirectiveTarget.remind_at <= now) & DirectiveTarget.reminded_at.is_(None)
                | (Directive.deadline <= now) & DirectiveTarget.overdue_at.is_(None)
            ),
        )
        .order_by(Directive.deadline, DirectiveTarget.org_unit_id)
    )
    changes = []
    for directive, target in rows:
        if as_utc(directive.deadline) <= now:
            target.overdue_at, kind = now, "overdue"
            text = f"Quá hạn xử lý chỉ đạo: {directive.title}"
            raise_occurrence(
                session, _overdue(session, directive, target, text), TIMER, policy, clock
            )
        else:
            target.reminded_at, kind = now, "reminded"
            text = f"Sắp đến hạn ({as_utc(directive.deadline):%H:%M %d/%m} UTC): {directive.title}"
        _record(session, clock, TIMER, directive, target, Event(kind, text))
        changes.append(TargetChange(directive.id, target.org_unit_id, kind, now))
    return changes


def get_directive(
    session: Session, actor: Principal, directive_id: uuid.UUID, clock: Clock
) -> DirectiveDetail:
    """One directive with the parts and timeline the actor may see."""
    directive, targets = _visible(session, actor, directive_id)
    units = [target.org_unit_id for target in targets]
    entries = timeline.entries_of(
        session, directive_id=directive.id, units=None if _issuer(actor) else units
    )
    return directive_detail(directive, targets, entries, clock.now())


def list_directives(
    session: Session, actor: Principal, query: DirectiveQuery, clock: Clock
) -> list[DirectiveOut]:
    """The directives the actor sees (their unit's; all of their area for issuers), by
    deadline; `open`: some part not closed, `overdue`: some part open after the deadline."""
    issuer = _issuer(actor)
    if not issuer:
        actor.require("directives:handle")
    now = clock.now()
    grouped = _parts_in_sight(session, actor, whole_area=issuer)
    shown = []
    for directive, targets in grouped:
        open_parts = [t for t in targets if t.state != TargetState.CLOSED]
        if query.status == "open" and not open_parts:
            continue
        if query.status == "overdue" and not any(
            target_is_overdue(t, directive.deadline, now) for t in open_parts
        ):
            continue
        shown.append(directive_out(directive, targets, now))
    return shown[query.offset : query.offset + query.limit]


def board(session: Session, actor: Principal, clock: Clock) -> list[BoardRow]:
    """The leader's board: for each unit of the area, its directives by state; a part open
    after the deadline counts as `overdue`."""
    actor.require("directives:issue")
    now = clock.now()
    by_unit: dict[uuid.UUID, list[BoardItem]] = defaultdict(list)
    for directive, targets in _parts_in_sight(session, actor, whole_area=True):
        for target in targets:
            overdue = target.state != TargetState.CLOSED and target_is_overdue(
                target, directive.deadline, now
            )
            by_unit[target.org_unit_id].append(
                BoardItem(
                    directive_id=directive.id,
                    title=directive.title,
                    priority=label(Priority(directive.priority)),
                    deadline=directive.deadline,
                    state=label(TargetState(target.state)),
                    percent=target.percent,
                    overdue=overdue,
                )
            )
    rows = []
    for unit, items in by_unit.items():
        counts = Counter("overdue" if item.overdue else item.state.code for item in items)
        name = get_org_unit(session, actor, unit).name
        rows.append(BoardRow(org_unit_id=unit, org_unit_name=name, counts=counts, items=items))
    return sorted(rows, key=lambda row: (-row.counts.get("overdue", 0), row.org_unit_name))


def overdue_parts(
    session: Session, actor: Principal, now: datetime
) -> list[tuple[Directive, DirectiveTarget]]:
    """The parts of directives still open after their deadline, in the actor's area."""
    return [
        (directive, target)
        for directive, targets in _parts_in_sight(session, actor, whole_area=True)
        for target in targets
        if target.state != TargetState.CLOSED and as_utc(directive.deadline) < now
    ]


def _issuer(actor: Principal) -> bool:
    return actor.can("directives:issue")


def _parts_in_sight(
    session: Session, actor: Principal, *, whole_area: bool
) -> list[tuple[Directive, list[DirectiveTarget]]]:
    """Directives with the parts placed in the actor's scope (`whole_area`) or their unit's
    part only; by deadline."""
    query = select(Directive, DirectiveTarget).join(
        DirectiveTarget, DirectiveTarget.directive_id == Directive.id
    )
    if whole_area:
        query = query.where(in_scope(DirectiveTarget.admin_unit_id, actor))
    else:
        query = query.where(DirectiveTarget.org_unit_id == actor.org_unit_id)
    grouped: dict[uuid.UUID, tuple[Directive, list[DirectiveTarget]]] = {}
    for directive, target in session.execute(
        query.order_by(Directive.deadline, Directive.id, DirectiveTarget.org_unit_id)
    ):
        grouped.setdefault(directive.id, (directive, []))[1].append(target)
    return list(grouped.values())


def _visible(
    session: Session, actor: Principal, directive_id: uuid.UUID
) -> tuple[Directive, list[DirectiveTarget]]:
    directive = session.get(Directive, directive_id)
    if directive is None:
        raise NotFound("No such directive.")
    targets = list(
        session.scalars(
            select(DirectiveTarget)
            .where(DirectiveTarget.directive_id == directive_id)
            .order_by(DirectiveTarget.org_unit_id)
        )
    )
    if _issuer(actor):
        paths = org_unit_places(session, [t.org_unit_id for t in targets])
        seen = [t for t in targets if actor.sees(paths[t.org_unit_id].path)]
    else:
        actor.require("directives:handle")
        seen = [t for t in targets if t.org_unit_id == actor.org_unit_id]
    if not seen:
        raise Forbidden("This directive is not addressed to your unit or your area.")
    return directive, seen


def _own_part(
    session: Session, actor: Principal, directive_id: uuid.UUID
) -> tuple[Directive, DirectiveTarget]:
    """The actor's unit's part of a directive, locked; 403 for any other unit."""
    actor.require("directives:handle")
    directive = session.get(Directive, directive_id)
    if directive is None:
        raise NotFound("No such directive.")
    target = (
        session.get(DirectiveTarget, (directive_id, actor.org_unit_id), with_for_update=True)
        if actor.org_unit_id is not None
        else None
    )
    if target is None:
        raise Forbidden("This directive is not addressed to your unit.")
    if target.state == TargetState.CLOSED:
        raise Conflict("Your unit has closed its part of this directive.")
    return directive, target


def _overdue_entity(directive: Directive, target: DirectiveTarget) -> str:
    return f"urn:dothi:Directive:{directive.id}:{target.org_unit_id}"


def _overdue(
    session: Session, directive: Directive, target: DirectiveTarget, text: str
) -> Occurrence:
    unit = get_org_unit(session, SYSTEM, target.org_unit_id)
    return Occurrence(
        OVERDUE,
        "Chỉ đạo quá hạn",
        _overdue_entity(directive, target),
        "Directive",
        "critical" if directive.priority in (Priority.HIGH, Priority.CRITICAL) else "warning",
        f"{text} – {unit.name}",
        admin_unit_id=target.admin_unit_id,
    )


def _record(
    session: Session,
    clock: Clock,
    actor: str,
    directive: Directive,
    target: DirectiveTarget,
    event: Event,
) -> None:
    event = Event(
        event.kind,
        event.text,
        event.attachments,
        target.org_unit_id,
        {**event.detail, "state": target.state},
    )
    timeline.record(session, clock, actor, directive, event, target.admin_unit_id)
