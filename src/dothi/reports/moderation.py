"""Moderation of public reports: hide, edit the text, redact a photo. Each act is kept with
what it replaced, and only moderators (`reports:moderate`) read that history."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock
from dothi.errors import NotFound
from dothi.reports.models import Moderation, Photo, Report
from dothi.reports.photos import redact
from dothi.reports.schemas import Box, ModerationOut, Region
from dothi.reports.service import reindex, report_by_code, visible_report


def _moderated(session: Session, actor: Principal, code: str) -> Report:
    actor.require("reports:moderate")
    return visible_report(session, actor, code)


def _record(
    session: Session,
    clock: Clock,
    actor: Principal,
    report: Report,
    action: str,
    reason: str,
    detail: dict[str, Any],
) -> None:
    now = clock.now()
    session.add(
        Moderation(
            report_id=report.id,
            at=now,
            actor=actor.username,
            action=action,
            reason=reason,
            detail=detail,
        )
    )
    report.updated_at = now
    session.flush()
    audit.record(
        session,
        clock,
        actor.username,
        f"report.{action}",
        object_type="report",
        object_id=report.tracking_code,
        admin_unit_id=report.admin_unit_id,
        detail={"reason": reason},
    )


def set_hidden(
    session: Session, actor: Principal, clock: Clock, code: str, hidden: bool, reason: str
) -> None:
    """Take a report off the public map and Open311 (or put it back)."""
    report = _moderated(session, actor, code)
    if report.hidden != hidden:
        report.hidden = hidden
        _record(session, clock, actor, report, "hide" if hidden else "unhide", reason, {})


def edit_text(
    session: Session, actor: Principal, clock: Clock, code: str, description: str, reason: str
) -> None:
    """Replace the public description (e.g. remove an insult); the old text stays in history."""
    report = _moderated(session, actor, code)
    before = report.description
    report.description = description
    reindex(session, report)
    _record(session, clock, actor, report, "edit", reason, {"before": before})


def redact_photo(
    session: Session,
    actor: Principal,
    clock: Clock,
    code: str,
    photo_id: uuid.UUID,
    region: Box | Region,
    reason: str,
) -> None:
    """Black out a region of one of the report's photos (a face, a number plate), given in
    pixels (`Box`) or as a corner and size in pixels or per cent (`Region`)."""
    report = _moderated(session, actor, code)
    photo = session.get(Photo, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound("No such photo.")
    box = region.box(photo.width, photo.height) if isinstance(region, Region) else region
    redact(photo, box)
    _record(
        session,
        clock,
        actor,
        report,
        "redact",
        reason,
        {"photo": str(photo_id), **box.model_dump()},
    )


def history(session: Session, actor: Principal, code: str) -> list[ModerationOut]:
    """What moderators did to a report, oldest first (moderators only)."""
    actor.require("reports:moderate")
    report = report_by_code(session, code)
    visible_report(session, actor, code)
    query = select(Moderation).where(Moderation.report_id == report.id).order_by(Moderation.at)
    return [ModerationOut.model_validate(row) for row in session.scalars(query)]
