"""The public updates of reports in time order: what Open311 `servicerequestupdates` serves."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.reports.models import Report, ReportUpdate
from dothi.reports.service import shown_publicly
from dothi.reports.views import scrub, state_views


class FeedItem(BaseModel):
    """One public update: its id, the report's tracking code, the extended status then."""

    update_id: uuid.UUID
    tracking_code: str
    status: str
    at: datetime
    note: str


def public_updates(
    session: Session, since: datetime, until: datetime, *, limit: int, offset: int = 0
) -> list[FeedItem]:
    """Public updates of public reports made in [since, until), oldest first, the
    reporter's contact scrubbed. An update that changed no state carries the report's
    current status.
    """
    states = state_views(session)
    rows = session.execute(
        select(ReportUpdate, Report)
        .join(Report, Report.id == ReportUpdate.report_id)
        .where(
            shown_publicly(),
            ReportUpdate.public,
            ReportUpdate.at >= since,
            ReportUpdate.at < until,
        )
        .order_by(ReportUpdate.at, ReportUpdate.report_id, ReportUpdate.number)
        .limit(limit)
        .offset(offset)
    )
    return [
        FeedItem(
            update_id=update.id,
            tracking_code=report.tracking_code,
            status=states[update.state or report.state].open311_status,
            at=update.at,
            note=scrub(update.note, report),
        )
        for update, report in rows
    ]
