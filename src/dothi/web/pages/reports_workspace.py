"""The officers' workspace: the queue of their unit and area, a report's page and its actions.

Scope and the right to act are decided by `reports.service` and `reports.workflow`; the
reporter's contact is shown only on an explicit request, which is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import storable_text
from dothi.core.clock import Clock
from dothi.errors import DothiError, NotFound
from dothi.reports import photos, responses, service, workflow
from dothi.reports.catalogue import SYSTEM_STATES, list_states
from dothi.reports.policy import ReportPolicy
from dothi.reports.routing import transfer_targets
from dothi.reports.schemas import (
    OfficerQuery,
    Recategorise,
    ReporterContact,
    StateChange,
    Transfer,
)
from dothi.web.auth import csrf_token, require
from dothi.web.deps import (
    ClockDep,
    ReadSession,
    SettingsDep,
    WriteSession,
    get_clock,
    get_report_policy,
    run_write,
)
from dothi.web.pages.reports_common import category_groups, form_photos
from dothi.web.pages.scope import PAGE_SIZE, page_count, page_offset, places_in_scope
from dothi.web.templating import render

router = APIRouter(prefix="/workspace/reports", include_in_schema=False)

Reader = Annotated[Principal, require("reports:read")]
Handler = Annotated[Principal, require("reports:handle")]
ContactReader = Annotated[Principal, require("reports:read_personal")]


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    state: Annotated[str, Query(max_length=30)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    ward: Annotated[uuid.UUID | None, Query()] = None,
    overdue: Annotated[bool, Query()] = False,
    mine: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The reports the officer sees, nearest deadline first: overdue ones lead."""
    query = OfficerQuery(
        state=state or None,
        category=category or None,
        ward=ward,
        overdue=True if overdue else None,
        mine=mine and actor.org_unit_id is not None,
        limit=PAGE_SIZE,
        offset=page_offset(page),
    )
    found = service.list_reports(session, actor, query, clock)
    places = places_in_scope(session, actor, clock, settings.timezone)
    selected = {"state": state, "category": category, "ward": ward, "overdue": overdue}
    context = {
        "title": "Reports to handle",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "found": found,
        "page": page,
        "pages": page_count(found.total),
        "states": list_states(session),
        "groups": category_groups(session),
        "places": places,
        "place_names": {place.id: place.name for place in places},
        "selected": {**selected, "mine": mine},
    }
    return render(request, "report_queue.html", context)


def _detail(
    request: Request,
    session: Session,
    actor: Principal,
    clock: Clock,
    code: str,
    *,
    error: str | None = None,
    contact: ReporterContact | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = service.get_report(session, actor, code, clock)
    context = {
        "title": report.tracking_code,
        "actor": actor,
        "csrf_token": csrf_token(request),
        "report": report,
        "contact": contact,
        "error": error,
        "done": request.query_params.get("done"),
        "states": [s for s in list_states(session) if s.code not in SYSTEM_STATES],
        "groups": category_groups(session),
        "units": transfer_targets(session, actor) if actor.can("reports:handle") else [],
        "templates": responses.list_templates(session, report.category),
        "can_handle": actor.can("reports:handle"),
        "can_contact": actor.can("reports:read_personal"),
        "can_moderate": actor.can("reports:moderate"),
        "can_open_incident": actor.can("incidents:manage"),
    }
    return render(request, "report_work.html", context, status_code)


@router.get("/{code}", response_class=HTMLResponse, name="work_report")
def work_report(
    request: Request, session: ReadSession, clock: ClockDep, actor: Reader, code: str
) -> HTMLResponse:
    """A report with its whole history and the actions the officer may take."""
    return _detail(request, session, actor, clock, code)


@router.post("/{code}/contact", response_class=HTMLResponse)
def show_contact(
    request: Request, actor: ContactReader, session: WriteSession, clock: ClockDep, code: str
) -> HTMLResponse:
    """The reporter's phone and e-mail, on an explicit request (written to the audit log)."""
    contact = service.reporter_contact(session, actor, code, clock)
    return _detail(request, session, actor, clock, code, contact=contact)


@dataclass(frozen=True, slots=True)
class Form:
    """What an action's form sent: its text fields and its photos."""

    fields: dict[str, str]
    photos: list[bytes]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


Step = Callable[[Session, Principal, ReportPolicy, Clock, str, Form], object]


def _accept(
    session: Session, actor: Principal, _p: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    workflow.accept(session, actor, clock, code, form.get("note", ""))


def _update(
    session: Session, actor: Principal, _p: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    """A note and/or a state, a response template filling an empty note, and photos."""
    change = StateChange(
        state=form.get("state") or None, note=form.get("note"), public=not form.get("internal")
    )
    change = responses.apply_template(session, form.get("template"), change)
    update = workflow.change_state(session, actor, clock, code, change)
    report = service.report_by_code(session, code)
    for photo in form.photos:
        photos.add_photo(session, clock, report, photo, update_id=update.id)


def _resolve(
    session: Session, actor: Principal, _p: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    workflow.resolve(session, actor, clock, code, form.get("note", ""))


def _reject(
    session: Session, actor: Principal, _p: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    workflow.reject(session, actor, clock, code, form.get("reason", ""))


def _transfer(
    session: Session, actor: Principal, policy: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    data = Transfer.model_validate(
        {"org_unit_id": form.get("org_unit_id"), "reason": form.get("reason")}
    )
    workflow.transfer(session, actor, policy, clock, code, data)


def _recategorise(
    session: Session, actor: Principal, policy: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    data = Recategorise.model_validate(
        {"category": form.get("category"), "reason": form.get("reason")}
    )
    workflow.recategorise(session, actor, policy, clock, code, data)


def _duplicate(
    session: Session, actor: Principal, _p: ReportPolicy, clock: Clock, code: str, form: Form
) -> None:
    workflow.mark_duplicate(
        session, actor, clock, code, form.get("original", ""), form.get("note", "")
    )


ACTIONS: dict[str, Step] = {
    "accept": _accept,
    "update": _update,
    "resolve": _resolve,
    "reject": _reject,
    "transfer": _transfer,
    "recategorise": _recategorise,
    "duplicate": _duplicate,
}
"""The workflow steps of the report page, by the last part of their address."""
MISSING = "Fill in the fields of this action."
MAX_FIELD = 4000


@router.post("/{code}/{action}", response_class=HTMLResponse)
async def act(request: Request, actor: Handler, code: str, action: str) -> Response:
    """Run a workflow step; back to the report page, with what went wrong if it failed."""
    step = ACTIONS.get(action)
    if step is None:
        raise NotFound("No such action.")
    sent = await request.form()
    fields = {
        key: value.strip()[:MAX_FIELD] for key, value in sent.items() if isinstance(value, str)
    }
    policy, clock = get_report_policy(request), get_clock(request)

    def work(session: Session) -> Response:
        try:
            for value in fields.values():
                storable_text(value)
            with session.begin_nested():  # a refusal half-way leaves nothing behind
                step(session, actor, policy, clock, code, Form(fields, form_photos(sent)))
        except ValueError:  # pydantic's ValidationError is one too
            return _detail(request, session, actor, clock, code, error=MISSING, status_code=422)
        except DothiError as exc:
            status = exc.status
            return _detail(
                request, session, actor, clock, code, error=exc.message, status_code=status
            )
        url = request.url_for("work_report", code=code).include_query_params(done=action)
        return RedirectResponse(str(url), status_code=303)

    return await run_write(request, work)
