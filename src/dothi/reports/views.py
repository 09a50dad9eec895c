"""Reports as each audience sees them: the public (no contact, ever) and officers (masked).

Built in batches: one query per related table for a whole page of reports.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from dothi.accounts.privacy import mask_email, mask_phone, personal_values
from dothi.reports.models import Category, Photo, Rating, Report, ReportUpdate, State, StateKind
from dothi.reports.routing import org_unit_names
from dothi.reports.schemas import ReportDetail, ReportPublic, StateView


@dataclass(frozen=True, slots=True)
class _Related:
    """What a page of reports refers to, loaded once."""

    categories: dict[uuid.UUID, Category]
    states: dict[str, StateView]
    units: dict[uuid.UUID, str]
    updates: dict[uuid.UUID, list[ReportUpdate]]
    photos: dict[uuid.UUID, list[uuid.UUID]]  # by report (its own) and by update
    originals: dict[uuid.UUID, str]


def state_views(session: Session) -> dict[str, StateView]:
    """Every state as shown, by code."""
    return {
        s.code: StateView(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            kind=s.kind,
            open311_status=s.open311_status,
        )
        for s in session.scalars(select(State))
    }


def shown_with_report() -> ColumnElement[bool]:
    """SQL: the photo is not hidden and belongs to the report itself or to a public update."""
    public_updates = select(ReportUpdate.id).where(ReportUpdate.public)
    return and_(
        Photo.hidden.is_(False),
        or_(Photo.update_id.is_(None), Photo.update_id.in_(public_updates)),
    )


def _related(session: Session, reports: Sequence[Report], *, internal: bool) -> _Related:
    ids = [r.id for r in reports]
    categories = {
        c.id: c
        for c in session.scalars(
            select(Category).where(Category.id.in_({r.category_id for r in reports}))
        )
    }
    updates: dict[uuid.UUID, list[ReportUpdate]] = defaultdict(list)
    query = select(ReportUpdate).where(ReportUpdate.report_id.in_(ids))
    if not internal:
        query = query.where(ReportUpdate.public)
    for update in session.scalars(query.order_by(ReportUpdate.report_id, ReportUpdate.number)):
        updates[update.report_id].append(update)
    photos: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    photo_query = select(Photo.report_id, Photo.update_id, Photo.id).where(Photo.report_id.in_(ids))
    if not internal:
        photo_query = photo_query.where(shown_with_report())
    rows = session.execute(photo_query.order_by(Photo.created_at))
    for report_id, update_id, photo_id in rows:
        photos[update_id or report_id].append(photo_id)
    duplicates = {r.duplicate_of_id for r in reports if r.duplicate_of_id}
    originals = dict(
        session.execute(
            select(Report.id, Report.tracking_code).where(Report.id.in_(duplicates))
        ).all()
    )
    unit_ids = {r.org_unit_id for r in reports} | {
        u.org_unit_id for rows in updates.values() for u in rows
    }
    return _Related(
        categories,
        state_views(session),
        org_unit_names(session, unit_ids),
        updates,
        photos,
        originals,
    )


def scrub(text: str, report: Report) -> str:
    """`text` with the reporter's phone and e-mail masked, however the phone is spaced.

    Public text is written by people: a description or an officer's note may repeat
    the contact that must never be published.
    """
    if report.reporter_email:
        text = re.sub(
            re.escape(report.reporter_email),
            mask_email(report.reporter_email),
            text,
            flags=re.IGNORECASE,
        )
    if report.reporter_phone:
        digits = report.reporter_phone.lstrip("+")
        # Any short run of non-digits between digits: "(098) 765-4321", "098/765/4321"…
        spaced = r"\D{0,3}".join(re.escape(digit) for digit in digits[-9:])
        text = re.sub(spaced, mask_phone(report.reporter_phone), text)
    return text


def _update(related: _Related, update: ReportUpdate, report: Report) -> dict[str, object]:
    """An update as shown, with the reporter's contact scrubbed (revealed only on request)."""
    return {
        "id": update.id,
        "at": update.at,
        "action": update.action,
        "state": related.states.get(update.state) if update.state else None,
        "note": scrub(update.note, report),
        "org_unit_name": related.units.get(update.org_unit_id) if update.org_unit_id else None,
        "photo_ids": related.photos[update.id],
    }


def _common(related: _Related, report: Report) -> dict[str, object]:
    category = related.categories[report.category_id]
    return {
        "tracking_code": report.tracking_code,
        "category": category.code,
        "category_name": category.name,
        "state": related.states[report.state],
        "description": scrub(report.description, report),
        "address": scrub(report.address, report) if report.address else None,
        "lon": report.lon,
        "lat": report.lat,
        "admin_unit_id": report.admin_unit_id,
        "org_unit_name": related.units.get(report.org_unit_id) if report.org_unit_id else None,
        "media_url": scrub(report.media_url, report) if report.media_url else None,
        "photo_ids": related.photos[report.id],
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "due_at": report.due_at,
        "closed_at": report.closed_at,
        "duplicate_of": related.originals.get(report.duplicate_of_id)
        if report.duplicate_of_id
        else None,
    }


def public_views(session: Session, reports: Sequence[Report]) -> list[ReportPublic]:
    """Reports for anyone: the reporter's name only if they chose to show it."""
    related = _related(session, reports, internal=False)
    return [
        ReportPublic.model_validate(
            {
                **_common(related, report),
                "reporter_name": report.reporter_name if report.show_name else None,
                "updates": [_update(related, u, report) for u in related.updates[report.id]],
            }
        )
        for report in reports
    ]


def is_overdue(report: Report, state: StateView, now: datetime) -> bool:
    """Still open past its deadline, or not accepted in time."""
    if state.kind != StateKind.OPEN:
        return False
    late_accept = report.accepted_at is None and report.accept_due_at is not None
    if late_accept and report.accept_due_at is not None and now > report.accept_due_at:
        return True
    return report.due_at is not None and now > report.due_at


def detail_views(session: Session, reports: Sequence[Report], now: datetime) -> list[ReportDetail]:
    """Reports for officers: the whole history, the reporter masked."""
    related = _related(session, reports, internal=True)
    ratings = dict(
        session.execute(
            select(Rating.report_id, Rating.score)
            .where(Rating.report_id.in_([r.id for r in reports]))
            .order_by(Rating.at)
        ).all()
    )
    return [
        ReportDetail.model_validate(
            {
                **_common(related, report),
                **personal_values(report, reveal=False),
                "id": report.id,
                "org_unit_id": report.org_unit_id,
                "urgency": report.urgency,
                "source": report.source,
                "submitted_by": report.submitted_by,
                "public": report.public,
                "hidden": report.hidden,
                "attributes": report.attributes,
                "show_name": report.show_name,
                "accept_due_at": report.accept_due_at,
                "accepted_at": report.accepted_at,
                "overdue": is_overdue(report, related.states[report.state], now),
                "updates": [
                    {**_update(related, u, report), "actor": u.actor, "public": u.public}
                    for u in related.updates[report.id]
                ],
                "rating": ratings.get(report.id),
            }
        )
        for report in reports
    ]
