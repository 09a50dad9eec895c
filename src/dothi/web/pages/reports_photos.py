"""Photos of reports and their thumbnails, for each audience.

Anyone gets the photos of a public, unhidden report that are themselves shown (cacheable
by browsers and proxies); the reporter, with the secret of their private link, those of
their own report; officers every photo of the reports they see. Private answers are never
stored by a cache.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.errors import NotFound
from dothi.reports import photos
from dothi.web.deps import ReadSession
from dothi.web.pages.reports_common import Visitor

router = APIRouter(include_in_schema=False)

PUBLIC_MAX_AGE = 300
"""Seconds a public photo may be cached: a moderator's redaction reaches everyone soon."""
Token = Annotated[str, Query(max_length=100)]


def _answer(
    session: Session, actor: Principal, photo_id: uuid.UUID, token: str, thumbnail: bool
) -> Response:
    try:
        data = photos.public_photo(session, photo_id, thumbnail=thumbnail)
        cache = f"public, max-age={PUBLIC_MAX_AGE}"
    except NotFound:
        if token:
            data = photos.reporter_photo(session, photo_id, token, thumbnail=thumbnail)
        elif actor.can("reports:read"):
            data = photos.officer_photo(session, actor, photo_id, thumbnail=thumbnail)
        else:
            raise
        cache = "no-store"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/reports/photos/{photo_id}", response_class=Response, name="report_photo")
def photo(session: ReadSession, actor: Visitor, photo_id: uuid.UUID, token: Token = "") -> Response:
    """A photo of a report, at most 2048 pixels wide or high."""
    return _answer(session, actor, photo_id, token, thumbnail=False)


@router.get("/reports/photos/{photo_id}/thumbnail", response_class=Response)
def thumbnail(
    session: ReadSession, actor: Visitor, photo_id: uuid.UUID, token: Token = ""
) -> Response:
    """A photo's thumbnail (at most 320 pixels)."""
    return _answer(session, actor, photo_id, token, thumbnail=True)
