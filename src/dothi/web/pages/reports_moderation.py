"""Moderation of public reports (`reports:moderate`): hide or show a report, edit its public
text, black out a region of a photo; the moderation history is shown to moderators only."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock
from dothi.errors import DothiError
from dothi.reports import moderation, photos, service
from dothi.reports.schemas import Region
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, WriteSession
from dothi.web.templating import render

router = APIRouter(prefix="/moderation/reports", include_in_schema=False)

Moderator = Annotated[Principal, require("reports:moderate")]
Reason = Annotated[str, Form(max_length=4000)]


def _page(
    request: Request,
    session: Session,
    actor: Principal,
    clock: Clock,
    code: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = service.get_report(session, actor, code, clock)
    context = {
        "title": code,
        "actor": actor,
        "csrf_token": csrf_token(request),
        "report": report,
        "photos": photos.list_photos(session, report.id),
        "history": moderation.history(session, actor, code),
        "error": error,
        "done": request.query_params.get("done"),
    }
    return render(request, "report_moderation.html", context, status_code)


@router.get("/{code}", response_class=HTMLResponse, name="moderate_report")
def moderate_report(
    request: Request, session: ReadSession, clock: ClockDep, actor: Moderator, code: str
) -> HTMLResponse:
    """The report as published, the moderation forms and the moderation history."""
    return _page(request, session, actor, clock, code)


def _moderated(
    request: Request, session: Session, actor: Principal, clock: Clock, code: str, reason: str
) -> Response | None:
    """The form again when no reason is given; None to go on."""
    if reason.strip():
        return None
    return _page(request, session, actor, clock, code, "Give the reason.", 422)


def _back(request: Request, code: str, done: str) -> RedirectResponse:
    url = request.url_for("moderate_report", code=code).include_query_params(done=done)
    return RedirectResponse(str(url), status_code=303)


@router.post("/{code}/visibility", response_class=HTMLResponse)
def set_visibility(
    request: Request,
    actor: Moderator,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    hidden: Annotated[bool, Form()] = False,
    reason: Reason = "",
) -> Response:
    """Take the report off the public map and list, or put it back."""
    refused = _moderated(request, session, actor, clock, code, reason)
    if refused is not None:
        return refused
    moderation.set_hidden(session, actor, clock, code, hidden, reason.strip())
    return _back(request, code, "hidden" if hidden else "shown")


@router.post("/{code}/text", response_class=HTMLResponse)
def edit_text(
    request: Request,
    actor: Moderator,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    description: Annotated[str, Form(max_length=4000)] = "",
    reason: Reason = "",
) -> Response:
    """Replace the public description (an insult, a name); the old text stays in the history."""
    refused = _moderated(request, session, actor, clock, code, reason)
    if refused is not None:
        return refused
    if not description.strip():
        return _page(request, session, actor, clock, code, "The text cannot be empty.", 422)
    try:
        with session.begin_nested():
            moderation.edit_text(session, actor, clock, code, description.strip(), reason.strip())
    except DothiError as exc:
        return _page(request, session, actor, clock, code, exc.message, exc.status)
    return _back(request, code, "edited")


Size = Annotated[str, Form(max_length=20)]


@router.post("/{code}/photos/{photo_id}/redact", response_class=HTMLResponse)
def redact_photo(
    request: Request,
    actor: Moderator,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    photo_id: uuid.UUID,
    x: Size = "",
    y: Size = "",
    width: Size = "",
    height: Size = "",
    unit: Annotated[Literal["px", "%"], Form()] = "px",
    reason: Reason = "",
) -> Response:
    """Black out a rectangle (a face, a number plate) of a photo, in pixels or per cent."""
    refused = _moderated(request, session, actor, clock, code, reason)
    if refused is not None:
        return refused
    try:
        values = {"x": x, "y": y, "width": width, "height": height, "unit": unit}
        region = Region.model_validate({k: v.replace(",", ".") for k, v in values.items()})
    except ValidationError:
        message = "Give the region as numbers: x, y, width and height."
        return _page(request, session, actor, clock, code, message, 422)
    try:
        with session.begin_nested():
            moderation.redact_photo(session, actor, clock, code, photo_id, region, reason.strip())
    except DothiError as exc:
        return _page(request, session, actor, clock, code, exc.message, exc.status)
    return _back(request, code, "redacted")
