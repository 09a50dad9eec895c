"""The citizen's pages, phone first: report a problem, join a nearby one, follow, rate, reopen.

No login: the reporter acts on their report with the secret of the private link they got
when sending it. Nothing here shows anyone's phone or e-mail.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dothi.accounts.schemas import Email, storable_text
from dothi.core.clock import Clock
from dothi.errors import DothiError, InvalidInput
from dothi.reports import photos, service, workflow
from dothi.reports.attributes import definitions
from dothi.reports.catalogue import category_by_code
from dothi.reports.models import StateKind
from dothi.reports.schemas import AttributeDef, RatingIn, Receipt, ReportIn
from dothi.reports.views import public_views
from dothi.web.deps import (
    ClockDep,
    ReadSession,
    WriteSession,
    get_clock,
    get_database,
    get_report_policy,
    run_write,
)
from dothi.web.pages.reports_common import (
    Visitor,
    category_groups,
    form_photos,
    render_public,
)
from dothi.web.templating import gettext

router = APIRouter(include_in_schema=False)

PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
"""Headers of pages whose address carries the reporter's secret."""

FIELD_MESSAGES = {
    "description": "Describe the problem (at most 4000 characters).",
    "lon": "Choose the place on the map or type its coordinates.",
    "lat": "Choose the place on the map or type its coordinates.",
    "address": "The address is too long.",
    "reporter_name": "The name is too long.",
    "reporter_phone": "The phone number is not valid.",
    "reporter_email": "The e-mail address is not valid.",
}
_email = TypeAdapter(Email)


def _questions(session: Session, category: str) -> list[AttributeDef]:
    """The extra questions of a category; none for an unknown one."""
    if not category:
        return []
    try:
        return definitions(category_by_code(session, category))
    except DothiError:
        return []


def _form(
    request: Request,
    session: Session,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": "Report a problem",
        "groups": category_groups(session),
        "questions": _questions(session, values.get("category", "")),
        "values": values,
        "error": error,
    }
    return render_public(request, "report_new.html", context, status_code)


@router.get("/reports/new", response_class=HTMLResponse)
def new_report(
    request: Request,
    session: ReadSession,
    _visitor: Visitor,
    category: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The form: place, category, description, contact."""
    return _form(request, session, {"category": category, "answers": {}})


@router.get("/reports/questions", response_class=HTMLResponse)
def questions(
    request: Request,
    session: ReadSession,
    _visitor: Visitor,
    category: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The extra questions of a category (an htmx fragment of the form)."""
    context = {"questions": _questions(session, category), "values": {"answers": {}}}
    return render_public(request, "_report_questions.html", context)


def _answers(
    request: Request, form: FormData, asked: list[AttributeDef]
) -> dict[str, str | list[str]]:
    """The answers to the extra questions; a missing required one is named."""
    answers: dict[str, str | list[str]] = {}
    for question in asked:
        given = [v.strip() for v in form.getlist(f"attr.{question.code}") if isinstance(v, str)]
        given = [v for v in given if v]
        if question.required and not given:
            message = gettext(request, "Please answer: %(question)s")
            raise InvalidInput(message % {"question": question.description})
        if given:
            answers[question.code] = given if question.datatype == "multivaluelist" else given[0]
    return answers


def _values(form: FormData) -> dict[str, Any]:
    """The form as typed, to show it again."""
    text = {key: str(form.get(key, "")).strip() for key in FIELDS}
    return {
        **text,
        "show_name": form.get("show_name") == "on",
        "urgent": form.get("urgent") == "on",
    }


FIELDS = ("category", "description", "lat", "lon", "address", "name", "phone", "email")


def _report_in(values: dict[str, Any], answers: dict[str, str | list[str]]) -> ReportIn:
    if not values["category"]:
        raise InvalidInput("Choose a category.")
    if not values["lat"] or not values["lon"]:
        raise InvalidInput(FIELD_MESSAGES["lat"])
    if not values["phone"] and not values["email"]:
        raise InvalidInput(
            "Give a phone number or an e-mail address, so that the unit can reach you."
        )
    try:
        return ReportIn.model_validate(
            {
                "category": values["category"],
                "description": values["description"],
                "lat": values["lat"].replace(",", "."),
                "lon": values["lon"].replace(",", "."),
                "address": values["address"] or None,
                "urgency": "urgent" if values["urgent"] else "normal",
                "reporter_name": values["name"] or None,
                "reporter_phone": values["phone"] or None,
                "reporter_email": values["email"] or None,
                "show_name": values["show_name"] and bool(values["name"]),
                "attributes": answers,
            }
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise InvalidInput(FIELD_MESSAGES.get(field, "Please check the form.")) from exc


@router.post("/reports/new", response_class=HTMLResponse)
async def send_report(request: Request, actor: Visitor) -> Response:
    """Store the report and its photos; show the tracking code and the private link once.

    A photo refused refuses the whole report: one unit of work, nothing half-written.
    """
    form = await request.form()
    values = _values(form)
    policy = get_report_policy(request)
    clock = get_clock(request)

    def work(session: Session) -> Receipt:
        answers = _answers(request, form, _questions(session, values["category"]))
        data = _report_in(values, answers)
        submitted_by = actor.username if actor.is_authenticated else workflow.CITIZEN
        receipt = service.submit_report(
            session, policy, clock, data, submitted_by=submitted_by, source="web"
        )
        report = service.report_by_code(session, receipt.tracking_code)
        for photo in form_photos(form):
            photos.add_photo(session, clock, report, photo)
        return receipt

    try:
        receipt = await run_write(request, work)
    except DothiError as exc:
        values["answers"] = {k[5:]: form.getlist(k) for k in form if k.startswith("attr.")}
        with get_database(request).read() as session:
            return _form(request, session, values, exc.message, exc.status)
    link = request.url_for("track_report", code=receipt.tracking_code).include_query_params(
        token=receipt.token
    )
    context = {"title": "Report sent", "receipt": receipt, "link": str(link)}
    response = render_public(request, "report_sent.html", context, status_code=201)
    response.headers.update(PRIVATE)
    return response


@router.get("/reports/nearby", response_class=HTMLResponse)
def nearby(
    request: Request,
    session: ReadSession,
    _visitor: Visitor,
    category: Annotated[str, Query(max_length=40)] = "",
    lat: Annotated[str, Query(max_length=30)] = "",
    lon: Annotated[str, Query(max_length=30)] = "",
) -> HTMLResponse:
    """Open reports of the same category within 50 m (an htmx fragment of the form)."""
    found = []
    try:
        point = (float(lon.replace(",", ".")), float(lat.replace(",", ".")))
    except ValueError:
        point = None
    if category and point and -180 <= point[0] <= 180 and -90 <= point[1] <= 90:
        found = service.nearby(session, point[0], point[1], category)
    return render_public(request, "_report_nearby.html", {"nearby": found})


@router.post("/reports/{code}/follow", response_class=HTMLResponse)
def join_report(
    request: Request,
    _visitor: Visitor,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    email: Annotated[str, Form(max_length=254)] = "",
) -> HTMLResponse:
    """Follow a nearby report instead of sending the same one again."""
    try:
        address = _email.validate_python(email)
    except ValidationError:
        report = service.get_public(session, code)
        context = {"title": report.tracking_code, "report": report}
        context["error"] = "The e-mail address is not valid."
        return render_public(request, "report_public.html", context, status_code=422)
    service.follow(session, clock, code, address)
    context = {"title": "You follow this report", "code": code.strip().upper()}
    return render_public(request, "report_joined.html", context)


def _track(
    request: Request,
    session: Session,
    clock: Clock,
    code: str,
    token: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = service.report_for_citizen(session, code, token)
    report = public_views(session, [found])[0]
    policy = get_report_policy(request)
    closed = report.state.kind != StateKind.OPEN and report.closed_at is not None
    reopenable = (
        closed
        and report.duplicate_of is None
        and report.closed_at is not None
        and clock.now() <= report.closed_at + policy.reopen_within
    )
    context = {
        "title": report.tracking_code,
        "report": report,
        "token": token,
        "closed": closed,
        "reopenable": reopenable,
        "done": request.query_params.get("done"),
        "error": error,
    }
    response = render_public(request, "report_track.html", context, status_code)
    response.headers.update(PRIVATE)
    return response


@router.get("/reports/{code}/track", response_class=HTMLResponse, name="track_report")
def track_report(
    request: Request,
    session: ReadSession,
    clock: ClockDep,
    _visitor: Visitor,
    code: str,
    token: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The reporter's private page: the public history, and rating or reopening once closed."""
    return _track(request, session, clock, code, token)


def _tracked(request: Request, code: str, token: str, done: str) -> RedirectResponse:
    url = request.url_for("track_report", code=code).include_query_params(token=token, done=done)
    return RedirectResponse(str(url), status_code=303, headers=PRIVATE)


@router.post("/reports/{code}/rate", response_class=HTMLResponse)
def rate_report(
    request: Request,
    _visitor: Visitor,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    token: Annotated[str, Form(max_length=100)] = "",
    score: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The reporter rates the answer (1-5 and a comment)."""
    try:
        data = RatingIn.model_validate({"score": score, "comment": comment})
    except ValidationError:
        message = "Choose a score from 1 to 5."
        return _track(request, session, clock, code, token, message, 422)
    try:
        with session.begin_nested():
            workflow.rate(session, clock, code, token, data)
    except DothiError as exc:
        return _track(request, session, clock, code, token, exc.message, exc.status)
    return _tracked(request, code, token, "rated")


@router.post("/reports/{code}/reopen", response_class=HTMLResponse)
def reopen_report(
    request: Request,
    _visitor: Visitor,
    session: WriteSession,
    clock: ClockDep,
    code: str,
    token: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The reporter is not satisfied: the report opens again (within 7 days of closing)."""
    try:
        storable_text(reason)
    except ValueError:
        reason = ""  # refused below with the same message as an empty one
    if not reason.strip():
        message = "Say why the problem is not solved."
        return _track(request, session, clock, code, token, message, 422)
    try:
        with session.begin_nested():
            workflow.reopen(session, get_report_policy(request), clock, code, token, reason.strip())
    except DothiError as exc:
        return _track(request, session, clock, code, token, exc.message, exc.status)
    return _tracked(request, code, token, "reopened")
