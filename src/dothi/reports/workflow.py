"""The life of a report: accept, update, transfer, recategorise, resolve, reject, mark as
duplicate; the citizen rates and reopens.

Officers act on reports routed to their unit (supervisors without a unit, on any report in
their area). Every step is a row of the report's history; deadlines count working hours.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dothi.reports.catalogue import (
    ACCEPTED,
    DUPLICATE,
    FIXED,
    REJECTED,
    SUBMITTED,
    SYSTEM_STATES,
    TRANSFERRED,
    category_by_code,
    state_by_code,
)
from dothi.reports.models import (
    Category,
    Follower,
    Rating,
    Report,
    ReportUpdate,
    State,
    StateKind,
    Urgency,
)
from dothi.reports.policy import ReportPolicy
from dothi.reports.routing import active_org_unit, route
from dothi.reports.schemas import RatingIn, Recategorise, StateChange, Transfer
from dothi.reports.service import (
    add_follower,
    reindex,
    report_by_code,
    report_for_citizen,
    visible_report,
)

CITIZEN = "citizen"


def handled_report(session: Session, actor: Principal, code: str) -> Report:
    """A report the actor may work on (`reports:handle`): routed to their unit, or unrouted
    in their area; supervisors without a unit handle every report of their area."""
    actor.require("reports:handle")
    report = visible_report(session, actor, code)
    mine = actor.org_unit_id is not None and report.org_unit_id == actor.org_unit_id
    if not (mine or report.org_unit_id is None or actor.org_unit_id is None):
        raise Forbidden("This report is routed to another unit.")
    return report


def _log(
    session: Session,
    report: Report,
    now: datetime,
    actor: str,
    action: str,
    *,
    state: str | None = None,
    note: str = "",
    public: bool = True,
    org_unit_id: uuid.UUID | None = None,
) -> ReportUpdate:
    last = select(func.max(ReportUpdate.number)).where(ReportUpdate.report_id == report.id)
    entry = ReportUpdate(
        report_id=report.id,
        number=(session.scalar(last) or 0) + 1,
        at=now,
        actor=actor,
        action=action,
        state=state,
        note=note,
        public=public,
        org_unit_id=org_unit_id,
    )
    session.add(entry)
    report.updated_at = now
    session.flush()
    return entry


def _enter(report: Report, state: State, now: datetime) -> None:
    """Move to `state`, keeping the closing bookkeeping right."""
    report.state = state.code
    if state.kind == StateKind.OPEN:
        report.closed_at = None
        return
    report.closed_at = now
    report.resolved_at = report.resolved_at or now
    report.on_time = report.due_at is None or now <= report.due_at


def _is_open(session: Session, report: Report) -> bool:
    return state_by_code(session, report.state).kind == StateKind.OPEN


def _require_open(session: Session, report: Report) -> None:
    if not _is_open(session, report):
        raise Conflict("This report is closed.")


def _deadlines(report: Report, policy: ReportPolicy, now: datetime, hours: float) -> None:
    """A fresh time to accept and to resolve, counted from `now`."""
    report.accepted_at = None
    report.accept_due_at = policy.calendar.add(now, policy.accept_hours)
    report.due_at = policy.calendar.add(now, hours)


def _hours(session: Session, report: Report) -> float:
    category = session.get(Category, report.category_id)
    assert category is not None  # a foreign key
    return category.urgent_hours if report.urgency == Urgency.URGENT else category.normal_hours


def accept(session: Session, actor: Principal, clock: Clock, code: str, note: str = "") -> None:
    """The unit takes the report on (đã tiếp nhận)."""
    report = handled_report(session, actor, code)
    if report.state not in (SUBMITTED, TRANSFERRED):
        raise Conflict("This report was accepted already.")
    now = clock.now()
    report.accepted_at = now
    _enter(report, state_by_code(session, ACCEPTED), now)
    _log(session, report, now, actor.username, "accept", state=ACCEPTED, note=note)


def change_state(
    session: Session, actor: Principal, clock: Clock, code: str, change: StateChange
) -> ReportUpdate:
    """A note and/or a new state: in progress, fixed, rejected (with a reason), or one an
    administrator defined. Working on a report not yet accepted accepts it. The step of the
    history is returned (officers attach their photos to it)."""
    report = handled_report(session, actor, code)
    _require_open(session, report)
    now = clock.now()
    state = None
    if change.state is not None:
        if change.state in SYSTEM_STATES:
            raise InvalidInput("This state is reached through its own action.")
        state = state_by_code(session, change.state)
        if state.reason_required and not change.note:
            raise InvalidInput("A reason is required for this state.")
        if state.kind != StateKind.OPEN and not change.public:
            raise InvalidInput("The citizen must be told why a report is closed.")
    elif not change.note:
        raise InvalidInput("Give a new state or a note.")
    if report.accepted_at is None:
        report.accepted_at = now
    if state is not None:
        _enter(report, state, now)
    action = "update" if state is None or state.kind == StateKind.OPEN else "close"
    return _log(
        session,
        report,
        now,
        actor.username,
        action,
        state=state.code if state else None,
        note=change.note,
        public=change.public,
    )


def resolve(session: Session, actor: Principal, clock: Clock, code: str, note: str) -> None:
    """Fixed (đã xử lý), with what was done."""
    change_state(session, actor, clock, code, StateChange(state=FIXED, note=note))


def reject(session: Session, actor: Principal, clock: Clock, code: str, reason: str) -> None:
    """Rejected (từ chối): the reason is required and public."""
    change_state(session, actor, clock, code, StateChange(state=REJECTED, note=reason))


def transfer(
    session: Session,
    actor: Principal,
    policy: ReportPolicy,
    clock: Clock,
    code: str,
    data: Transfer,
) -> None:
    """Hand the report to another unit, with a reason; that unit must accept it in time."""
    report = handled_report(session, actor, code)
    _require_open(session, report)
    target = active_org_unit(session, data.org_unit_id)
    if target == report.org_unit_id:
        raise InvalidInput("The report is with this unit already.")
    _reroute(session, report, policy, clock, actor.username, target, data.reason, "transfer")


def _reroute(
    session: Session,
    report: Report,
    policy: ReportPolicy,
    clock: Clock,
    actor: str,
    target: uuid.UUID | None,
    reason: str,
    action: str,
) -> None:
    now = clock.now()
    report.org_unit_id = target
    report.accepted_at = None
    report.accept_due_at = policy.calendar.add(now, policy.accept_hours) if target else None
    _enter(report, state_by_code(session, TRANSFERRED), now)
    _log(session, report, now, actor, action, state=TRANSFERRED, note=reason, org_unit_id=target)


def recategorise(
    session: Session,
    actor: Principal,
    policy: ReportPolicy,
    clock: Clock,
    code: str,
    data: Recategorise,
) -> None:
    """Put the report in another category and route it again, with a reason.

    The deadline follows the new category, counted from when the report was sent
    (or last reopened).
    """
    report = handled_report(session, actor, code)
    _require_open(session, report)
    category = category_by_code(session, data.category)
    if category.id == report.category_id:
        raise InvalidInput("The report is in this category already.")
    report.category_id = category.id
    report.public = category.public
    reindex(session, report)
    hours = category.urgent_hours if report.urgency == Urgency.URGENT else category.normal_hours
    report.due_at = policy.calendar.add(_cycle_start(session, report), hours)
    found = route(session, category, report.admin_unit_id)
    target = found.id if found else None
    if target == report.org_unit_id:
        _log(session, report, clock.now(), actor.username, "recategorise", note=data.reason)
        return
    _reroute(session, report, policy, clock, actor.username, target, data.reason, "recategorise")


def _cycle_start(session: Session, report: Report) -> datetime:
    """When the report's current round began: its last reopening, else its sending."""
    reopened = session.scalar(
        select(func.max(ReportUpdate.at)).where(
            ReportUpdate.report_id == report.id, ReportUpdate.action == "reopen"
        )
    )
    return reopened or report.created_at


def mark_duplicate(
    session: Session, actor: Principal, clock: Clock, code: str, original_code: str, note: str = ""
) -> None:
    """Close the report as a duplicate; its followers and reporter now follow the original."""
    report = handled_report(session, actor, code)
    _require_open(session, report)
    original = visible_report(session, actor, original_code)
    while original.duplicate_of_id is not None:
        found = session.get(Report, original.duplicate_of_id)
        assert found is not None  # a foreign key
        original = found
    if original.id == report.id:
        raise InvalidInput("A report cannot duplicate itself.")
    now = clock.now()
    report.duplicate_of_id = original.id
    moved = select(Follower.contact).where(Follower.report_id == report.id)
    contacts = set(session.scalars(moved))
    if report.reporter_email:
        contacts.add(report.reporter_email)
    for contact in sorted(contacts):
        add_follower(session, clock, original.id, contact)
    session.execute(delete(Follower).where(Follower.report_id == report.id))
    _enter(report, state_by_code(session, DUPLICATE), now)
    note = note or f"Trùng với phản ánh {original.tracking_code}."
    _log(session, report, now, actor.username, "duplicate", state=DUPLICATE, note=note)


def reopen(
    session: Session,
    policy: ReportPolicy,
    clock: Clock,
    code: str,
    token: str | None,
    reason: str,
    *,
    actor: str = CITIZEN,
) -> ReportUpdate:
    """The citizen is not satisfied: the report opens again, within 7 days of closing.

    `token` is the reporter's secret; None is for a trusted integration (Open311 key)
    that checked its user itself.
    """
    report = (
        report_for_citizen(session, code, token)
        if token is not None
        else report_by_code(session, code)
    )
    if _is_open(session, report) or report.closed_at is None:
        raise Conflict("This report is still open.")
    if report.state == DUPLICATE:
        raise Conflict("Follow the original report instead.")
    now = clock.now()
    if now > report.closed_at + policy.reopen_within:
        raise Conflict("A report can be reopened only within 7 days of its closing.")
    _deadlines(report, policy, now, _hours(session, report))
    if report.org_unit_id is None:
        report.accept_due_at = None
    _enter(report, state_by_code(session, SUBMITTED), now)
    return _log(session, report, now, actor, "reopen", state=SUBMITTED, note=reason)


def rate(session: Session, clock: Clock, code: str, token: str, data: RatingIn) -> None:
    """The reporter rates the answer (1-5 and a comment), once per closing."""
    report = report_for_citizen(session, code, token)
    if _is_open(session, report) or report.closed_at is None:
        raise Conflict("A report can be rated once it is closed.")
    rated = select(Rating.id).where(Rating.report_id == report.id, Rating.at >= report.closed_at)
    if session.scalar(rated) is not None:
        raise Conflict("You rated this answer already.")
    session.add(Rating(report_id=report.id, at=clock.now(), score=data.score, comment=data.comment))
    session.flush()


def comment(
    session: Session, clock: Clock, code: str, note: str, *, actor: str = CITIZEN
) -> ReportUpdate:
    """A public note from the citizen's side (e.g. an Open311 update from a portal)."""
    report = report_by_code(session, code)
    if not report.public or report.hidden:
        raise NotFound("No such report.")
    return _log(session, report, clock.now(), actor, "comment", note=note)
