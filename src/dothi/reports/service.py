"""Reports in and out: submit, find, list for the public and for officers, contact, follow.

Submitting needs no permission here: the citizen pages are public and Open311 checks its
key at the edge. Reading the reporter's phone or e-mail is audited; nothing public ever
carries them. The workflow (accept, transfer, resolve…) is in `workflow`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, case, insert, or_, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Page
from dothi.accounts.units import in_scope, within_unit
from dothi.core.clock import Clock, local_date
from dothi.core.geo import EARTH_RADIUS_M, distance_m
from dothi.core.ids import new_id, random_secret
from dothi.core.text import fold
from dothi.errors import Forbidden, InvalidInput, NotFound
from dothi.places.service import unit_paths
from dothi.reports.attributes import check_attributes
from dothi.reports.catalogue import SUBMITTED
from dothi.reports.models import Category, Follower, Report, ReportUpdate, State, StateKind
from dothi.reports.placing import PlacingData, fresh_placing_data, placing_data
from dothi.reports.policy import ReportPolicy
from dothi.reports.schemas import (
    OfficerQuery,
    PublicQuery,
    Receipt,
    ReportDetail,
    ReporterContact,
    ReportIn,
    ReportPublic,
)
from dothi.reports.views import detail_views, public_views

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
CODE_LENGTH = 8
NEARBY_M = 50.0


def token_digest(token: str) -> str:
    """What is stored of a reporter's secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def _tracking_code() -> str:
    """A random code: 32⁸ ≈ 10¹² of them, so a clash is left to the unique constraint.

    One read of the system's randomness, not one per character: each read lets go of
    the interpreter lock. 32 divides 256, so every character is equally likely.
    """
    return "PA" + "".join(
        CODE_ALPHABET[byte % len(CODE_ALPHABET)] for byte in secrets.token_bytes(CODE_LENGTH)
    )


def search_text(code: str, category_name: str, description: str, address: str | None) -> str:
    """What the public search looks in, folded: no case, no diacritics."""
    return fold(" ".join([code, category_name, description, address or ""]))


def reindex(session: Session, report: Report) -> None:
    """Fold the report's searchable text again after its text or category changed."""
    category = session.get(Category, report.category_id)
    assert category is not None  # a foreign key
    report.search_text = search_text(
        report.tracking_code, category.name, report.description, report.address
    )


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new report goes, worked out before anything is written: its category,
    checked answers, ward and unit (plain values: usable after the reading session)."""

    category_id: uuid.UUID
    category_name: str
    public: bool
    hours: float
    attributes: dict[str, Any]
    ward_id: uuid.UUID
    unit_id: uuid.UUID | None
    unit_name: str | None


def place_report(
    session: Session, policy: ReportPolicy, data: ReportIn, now: datetime
) -> Placement:
    """Check the category and answers, place the point in its ward, route it: reads only,
    and mostly from memory (`placing`)."""
    return placement(placing_data(session, policy.root_unit, _day(policy, now)), data)


def place_from_memory(
    engine: Engine, policy: ReportPolicy, data: ReportIn, now: datetime
) -> Placement | None:
    """`place_report` without the database, when what it reads is fresh in memory (None
    when it is not): no worker thread needed."""
    known = fresh_placing_data(engine, policy.root_unit, _day(policy, now))
    return None if known is None else placement(known, data)


def _day(policy: ReportPolicy, now: datetime) -> date:
    return local_date(now, policy.calendar.zone.key)


def placement(known: PlacingData, data: ReportIn) -> Placement:
    """Where a report goes, worked out from what placing reads (see `place_report`)."""
    category = known.categories.get(data.category)
    if category is None:
        raise InvalidInput(f"No such category: {data.category}.")
    attributes = check_attributes(category, data.attributes)
    ward = known.places.locate((data.lon, data.lat), known.day, known.root_path)
    if ward is None:
        raise InvalidInput("This place is outside the area served.")
    target = known.routing.target(category.id, category.unit_kind, ward.path)
    hours = category.urgent_hours if data.urgency == "urgent" else category.normal_hours
    return Placement(
        category.id,
        category.name,
        category.public,
        hours,
        attributes,
        ward.id,
        target.id if target else None,
        target.name if target else None,
    )


def submit_report(
    session: Session,
    policy: ReportPolicy,
    clock: Clock,
    data: ReportIn,
    *,
    submitted_by: str,
    source: str,
) -> Receipt:
    """Place, route and store a new report; the receipt carries the reporter's secret once."""
    now = clock.now()
    placed = place_report(session, policy, data, now)
    new = new_report(policy, placed, data, now, submitted_by=submitted_by, source=source)
    return insert_report(session, new)


@dataclass(frozen=True, slots=True)
class NewReport:
    """The rows of a placed report and its first history entry, and the receipt to give."""

    report: dict[str, Any]
    first_update: dict[str, Any]
    receipt: Receipt


def new_report(
    policy: ReportPolicy,
    placed: Placement,
    data: ReportIn,
    now: datetime,
    *,
    submitted_by: str,
    source: str,
) -> NewReport:
    """Everything stored of a new report, worked out without the database (codes,
    deadlines, search text): the writer is then held for the inserts only."""
    token = random_secret(24)
    code = _tracking_code()
    report = {
        "id": new_id(),
        "tracking_code": code,
        "token_hash": token_digest(token),
        "category_id": placed.category_id,
        "state": SUBMITTED,
        "urgency": data.urgency,
        "description": data.description,
        "address": data.address,
        "search_text": search_text(code, placed.category_name, data.description, data.address),
        "lon": data.lon,
        "lat": data.lat,
        "admin_unit_id": placed.ward_id,
        "org_unit_id": placed.unit_id,
        "reporter_name": data.reporter_name,
        "reporter_phone": data.reporter_phone,
        "reporter_email": data.reporter_email,
        "show_name": data.show_name,
        "attributes": placed.attributes,
        "media_url": data.media_url,
        "source": source,
        "submitted_by": submitted_by,
        "public": placed.public,
        "hidden": False,
        "created_at": now,
        "updated_at": now,
        "accept_due_at": (
            policy.calendar.add(now, policy.accept_hours) if placed.unit_id else None
        ),
        "due_at": policy.calendar.add(now, placed.hours),
    }
    first = {
        "id": new_id(),
        "report_id": report["id"],
        "number": 1,
        "at": now,
        "actor": submitted_by,
        "action": "submit",
        "state": SUBMITTED,
        "org_unit_id": placed.unit_id,
        "note": "",
        "public": True,
    }
    receipt = Receipt(
        tracking_code=code, token=token, org_unit_name=placed.unit_name, due_at=report["due_at"]
    )
    return NewReport(report, first, receipt)


def insert_report(session: Session, new: NewReport) -> Receipt:
    """Write a new report and its first history row: two inserts, the only writes.

    Core inserts on the session's connection: the ORM's bulk path and unit of work cost
    more than the rest of a submission.
    """
    connection = session.connection()
    connection.execute(insert(Report), new.report)
    connection.execute(insert(ReportUpdate), new.first_update)
    return new.receipt


def report_by_code(session: Session, code: str) -> Report:
    """The report with this tracking code; NotFound otherwise."""
    report = session.scalar(select(Report).where(Report.tracking_code == code.strip().upper()))
    if report is None:
        raise NotFound("No such report.")
    return report


def shown_publicly() -> ColumnElement[bool]:
    """SQL: the report may appear on the public map and in Open311."""
    return and_(Report.public, Report.hidden.is_(False))


def get_public(session: Session, code: str) -> ReportPublic:
    """A public report as anyone sees it."""
    report = report_by_code(session, code)
    if not report.public or report.hidden:
        raise NotFound("No such report.")
    return public_views(session, [report])[0]


def _filters(session: Session, query: PublicQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.category is not None:
        where.append(
            Report.category_id.in_(select(Category.id).where(Category.code == query.category))
        )
    if query.status is not None:
        kinds = [StateKind.OPEN] if query.status == "open" else [StateKind.CLOSED, StateKind.FIXED]
        where.append(Report.state.in_(select(State.code).where(State.kind.in_(kinds))))
    if query.ward is not None:
        where.append(within_unit(session, Report.admin_unit_id, query.ward))
    if query.since is not None:
        where.append(Report.created_at >= query.since)
    if query.until is not None:
        where.append(Report.created_at < query.until)
    if query.codes is not None:
        where.append(Report.tracking_code.in_([code.upper() for code in query.codes]))
    for word in fold(query.q or "").split():
        where.append(Report.search_text.contains(word, autoescape=True))
    return where


def list_public(session: Session, query: PublicQuery) -> Page[ReportPublic]:
    """Public reports, newest first, with no personal data."""
    stmt: Select[Report] = (
        select(Report)
        .where(shown_publicly(), *_filters(session, query))
        .order_by(Report.created_at.desc(), Report.id)
    )
    return paginate(session, stmt, query, lambda rows: public_views(session, rows))


def nearby(
    session: Session, lon: float, lat: float, category: str, radius_m: float = NEARBY_M
) -> list[ReportPublic]:
    """Open public reports of a category within `radius_m` of a point, nearest first.

    Shown before sending, so that the citizen joins a report instead of repeating it.
    """
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    candidates = session.scalars(
        select(Report).where(
            shown_publicly(),
            is_open(),
            Report.category_id.in_(select(Category.id).where(Category.code == category)),
            Report.lat.between(lat - dlat, lat + dlat),
            Report.lon.between(lon - dlon, lon + dlon),
        )
    ).all()
    close = sorted((distance_m(lon, lat, r.lon, r.lat), r.tracking_code, r) for r in candidates)
    return public_views(session, [r for d, _, r in close if d <= radius_m])


def is_open() -> ColumnElement[bool]:
    """SQL: the report is in a state of the open kind (still needs someone)."""
    return Report.state.in_(select(State.code).where(State.kind == StateKind.OPEN))


def late(now: datetime) -> ColumnElement[bool]:
    """SQL: past its deadline, or not accepted in time (counts for open reports only)."""
    return or_(Report.due_at < now, and_(Report.accepted_at.is_(None), Report.accept_due_at < now))


def officer_sight(actor: Principal) -> ColumnElement[bool]:
    """SQL: reports placed in the actor's scope or routed to the actor's unit."""
    in_area = in_scope(Report.admin_unit_id, actor)
    if actor.org_unit_id is None:
        return in_area
    return or_(in_area, Report.org_unit_id == actor.org_unit_id)


def visible_report(session: Session, actor: Principal, code: str) -> Report:
    """A report the actor may work on: in their area or routed to their unit."""
    actor.require("reports:read")
    report = report_by_code(session, code)
    if actor.org_unit_id is not None and report.org_unit_id == actor.org_unit_id:
        return report
    path = (
        unit_paths(session, [report.admin_unit_id]).get(report.admin_unit_id)
        if report.admin_unit_id
        else None
    )
    if not actor.sees(path):
        raise Forbidden("This report is outside your area.")
    return report


def get_report(session: Session, actor: Principal, code: str, clock: Clock) -> ReportDetail:
    """A report with its workflow, for officers (`reports:read`); the reporter masked."""
    return detail_views(session, [visible_report(session, actor, code)], clock.now())[0]


def list_reports(
    session: Session, actor: Principal, query: OfficerQuery, clock: Clock
) -> Page[ReportDetail]:
    """The reports an officer sees, most urgent deadline first (overdue ones lead).

    `mine` keeps those routed to the officer's unit: their queue.
    """
    actor.require("reports:read")
    now = clock.now()
    where = [officer_sight(actor), *_filters(session, query)]
    if query.state is not None:
        where.append(Report.state == query.state)
    if query.org_unit_id is not None:
        where.append(Report.org_unit_id == query.org_unit_id)
    if query.mine:
        where.append(Report.org_unit_id == actor.org_unit_id)
    if query.overdue is not None:
        where.append(is_open() & late(now) if query.overdue else ~(is_open() & late(now)))
    deadline = case(
        (
            and_(Report.accepted_at.is_(None), Report.accept_due_at < Report.due_at),
            Report.accept_due_at,
        ),
        else_=Report.due_at,
    )
    stmt: Select[Report] = (
        select(Report)
        .where(*where)
        # Open reports first, by the deadline that comes first (accepting, then solving):
        # the overdue ones lead.
        .order_by(
            ~is_open(),
            deadline.is_(None),
            deadline,
            Report.created_at,
            Report.id,
        )
    )
    return paginate(session, stmt, query, lambda rows: detail_views(session, rows, now))


def reporter_contact(
    session: Session, actor: Principal, code: str, clock: Clock
) -> ReporterContact:
    """The reporter's name, phone and e-mail unmasked (`reports:read_personal`), audited."""
    actor.require("reports:read_personal")
    report = visible_report(session, actor, code)
    shown = [
        field
        for field in ("reporter_name", "reporter_phone", "reporter_email")
        if getattr(report, field) is not None
    ]
    audit.record(
        session,
        clock,
        actor.username,
        "report.read_personal",
        object_type="report",
        object_id=report.tracking_code,
        admin_unit_id=report.admin_unit_id,
        detail={"fields": shown},
    )
    return ReporterContact(
        tracking_code=report.tracking_code,
        reporter_name=report.reporter_name,
        reporter_phone=report.reporter_phone,
        reporter_email=report.reporter_email,
    )


def report_for_citizen(session: Session, code: str, token: str) -> Report:
    """The report whose reporter holds `token`; Forbidden for a wrong secret."""
    report = report_by_code(session, code)
    if not hmac.compare_digest(report.token_hash, token_digest(token)):
        raise Forbidden("This link does not let you act on this report.")
    return report


def follow(session: Session, clock: Clock, code: str, email: str) -> None:
    """Send the updates of a public report to `email` too (joining it instead of repeating)."""
    report = report_by_code(session, code)
    if not report.public or report.hidden:
        raise NotFound("No such report.")
    add_follower(session, clock, report.id, email)


def add_follower(session: Session, clock: Clock, report_id: uuid.UUID, email: str) -> None:
    """Add a follower unless they follow already."""
    known = select(Follower.id).where(Follower.report_id == report_id, Follower.contact == email)
    if session.scalar(known) is None:
        session.add(Follower(report_id=report_id, contact=email, created_at=clock.now()))
        session.flush()


def followers(session: Session, report_id: uuid.UUID) -> list[str]:
    """The e-mail addresses to tell of a report's updates (for the notifier)."""
    query = select(Follower.contact).where(Follower.report_id == report_id)
    return sorted(session.scalars(query))
