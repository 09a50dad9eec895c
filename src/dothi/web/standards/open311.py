"""Open311 GeoReport v2 under /open311/v2/, in JSON and XML, with mySociety's
`servicerequestupdates`; discovery at /open311/discovery.{json,xml}.

Anyone may read; posting needs the `api_key` of an integration account with
`reports:submit` (form field, `X-API-Key` or Bearer). Published requests carry the
public status (open/closed), the detailed state in `status_notes` and
`extended_attributes`, and never the reporter's phone or e-mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dothi import __version__
from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.core.documents import problems
from dothi.db.engine import Database
from dothi.errors import InvalidInput, NotFound
from dothi.reports import feed, service, workflow
from dothi.reports.attributes import definitions
from dothi.reports.catalogue import category_by_code, list_categories
from dothi.reports.models import StateKind
from dothi.reports.policy import ReportPolicy
from dothi.reports.schemas import PublicQuery, ReportIn, ReportPublic
from dothi.web.deps import (
    ClockDep,
    ReadSession,
    SettingsDep,
    get_database,
    get_report_policy,
    run_write,
)
from dothi.web.standards import open311_schemas as wire
from dothi.web.standards.open311_access import Reader, Submitter
from dothi.web.standards.open311_xml import XML_TYPE, Format, answer

router = APIRouter(prefix="/open311", tags=["open311"])
M = TypeVar("M", bound=BaseModel)

Fmt = Annotated[Format, Path(description="json or xml")]
Jurisdiction = Annotated[str | None, Query(max_length=100)]
MAX_PAGE_SIZE = 200
DEFAULT_SPAN = timedelta(days=90)
CHANGESET = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def _responses(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route: `model` in JSON or XML, Open311 error lists otherwise."""
    xml = {XML_TYPE: {"schema": {"type": "string"}}}
    errors = {"model": list[wire.Error], "content": xml}
    return {status: {"model": model, "content": xml}, 400: errors, 403: errors, 404: errors}


def _check_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> None:
    if jurisdiction_id is not None and jurisdiction_id != settings.open311_jurisdiction_id:
        raise NotFound("jurisdiction_id not found.")


def _valid(model: type[M], data: dict[str, Any]) -> M:
    """`data` as `model`; what the form's own checks let through is still a 400."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems(exc)) from exc


@router.get("/discovery.{fmt}", dependencies=Reader, responses=_responses(wire.Discovery))
def discovery(request: Request, fmt: Fmt) -> Response:
    """Where the GeoReport v2 endpoint of this server is, and in which formats."""
    base = str(request.base_url).rstrip("/")
    document = wire.Discovery(
        changeset=CHANGESET,
        contact=f"dothi {__version__}",
        key_service=f"{base}/users (ask the administrator for an integration key)",
        endpoints=[
            wire.Endpoint(
                specification=wire.SPECIFICATION,
                url=f"{base}/open311/v2",
                changeset=CHANGESET,
                type="production",
                formats=[XML_TYPE, "application/json"],
            )
        ],
    )
    return answer(fmt, "discovery", None, document)


def _service(category: Any) -> wire.Service:
    return wire.Service(
        service_code=category.code,
        service_name=category.name,
        description=category.description,
        metadata=bool(category.attributes),
        type="realtime",
        keywords=", ".join(category.keywords),
        group=category.group,
    )


@router.get("/v2/services.{fmt}", dependencies=Reader, responses=_responses(list[wire.Service]))
def services(
    session: ReadSession, settings: SettingsDep, fmt: Fmt, jurisdiction_id: Jurisdiction = None
) -> Response:
    """The categories one may report, with their group (Vietnamese names)."""
    _check_jurisdiction(settings, jurisdiction_id)
    found = [_service(category) for category in list_categories(session)]
    return answer(fmt, "services", "service", found)


@router.get(
    "/v2/services/{service_code}.{fmt}",
    dependencies=Reader,
    responses=_responses(wire.ServiceDefinition),
)
def service_definition(
    session: ReadSession,
    settings: SettingsDep,
    service_code: Annotated[str, Path(max_length=40)],
    fmt: Fmt,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """The extra questions (attributes) of a category."""
    _check_jurisdiction(settings, jurisdiction_id)
    category = category_by_code(session, service_code)
    attributes = [
        wire.Attribute(
            variable=True,
            code=item.code,
            datatype=item.datatype,
            required=item.required,
            datatype_description=item.datatype_description,
            order=item.order,
            description=item.description,
            values=[wire.AttributeValue(key=v.key, name=v.name) for v in item.values],
        )
        for item in definitions(category)
    ]
    definition = wire.ServiceDefinition(service_code=category.code, attributes=attributes)
    return answer(fmt, "service_definition", None, definition)


def _answers(form: Any) -> dict[str, str | list[str]]:
    """The `attribute[CODE]` fields of a form; a code sent twice (or `[]`) is a list."""
    found: dict[str, str | list[str]] = {}
    for key, value in form.multi_items():
        if not (key.startswith("attribute[") and key.endswith("]")) or not isinstance(value, str):
            continue
        code = key[len("attribute[") : -1].removesuffix("][")
        if code in found:
            previous = found[code]
            found[code] = [*([previous] if isinstance(previous, str) else previous), value]
        else:
            found[code] = value
    return found


def _place(
    database: Database, policy: ReportPolicy, data: ReportIn, now: datetime
) -> service.Placement:
    with database.read() as session:
        return service.place_report(session, policy, data, now)


@router.post("/v2/requests.{fmt}", status_code=201, responses=_responses(list[wire.Created], 201))
async def create_request(
    request: Request, principal: Submitter, fmt: Fmt, form: wire.RequestFormDep
) -> Response:
    """Submit a report: service_code, lat/long, description, contact, attribute[CODE]."""
    # Settings and clock straight from the app: a sync dependency costs a worker thread hop.
    settings, clock = request.app.state.settings, request.app.state.clock
    _check_jurisdiction(settings, form.jurisdiction_id)
    if form.lat is None or form.long is None:
        raise InvalidInput("lat and long are required: addresses alone cannot be placed.")
    names = [name for name in (form.first_name, form.last_name) if name]
    data = _valid(
        ReportIn,
        {
            "category": form.service_code,
            "description": form.description or form.service_code,
            "lon": form.long,
            "lat": form.lat,
            "address": form.address_string,
            "reporter_name": " ".join(names) or None,
            "reporter_phone": form.phone,
            "reporter_email": form.email,
            "attributes": _answers(await request.form()),
            "media_url": form.media_url,
        },
    )
    # Placed before the writer is asked for, which is then held for two inserts only;
    # from memory on the event loop when possible: a worker thread hop costs more.
    database, policy, now = get_database(request), get_report_policy(request), clock.now()
    placed = service.place_from_memory(database.engine, policy, data, now)
    if placed is None:
        placed = await run_in_threadpool(_place, database, policy, data, now)
    new = service.new_report(
        policy, placed, data, now, submitted_by=principal.username, source="open311"
    )
    receipt = await run_write(request, partial(service.insert_report, new=new))
    created = wire.Created(
        service_request_id=receipt.tracking_code,
        service_notice=f"Mã theo dõi: {receipt.tracking_code}",
        account_id=form.account_id,
    )
    return answer(fmt, "service_requests", "request", [created], status_code=201)


def _published(report: ReportPublic, zone: ZoneInfo) -> wire.ServiceRequest:
    notes = [update.note for update in report.updates if update.note]
    state = report.state
    return wire.ServiceRequest(
        service_request_id=report.tracking_code,
        status="open" if state.kind == StateKind.OPEN else "closed",
        status_notes=f"{state.name}: {notes[-1]}" if notes else state.name,
        service_name=report.category_name,
        service_code=report.category,
        description=report.description,
        agency_responsible=report.org_unit_name or "",
        service_notice="",
        requested_datetime=report.created_at.astimezone(zone),
        updated_datetime=report.updated_at.astimezone(zone),
        expected_datetime=report.due_at.astimezone(zone) if report.due_at else None,
        address=report.address or "",
        address_id="",
        zipcode="",
        lat=report.lat,
        long=report.lon,
        media_url=report.media_url or "",
        extended_attributes={
            "state": state.code,
            "state_name": state.name,
            "state_name_en": state.name_en,
            "extended_status": state.open311_status,
            "reporter_name": report.reporter_name or "",
            "duplicate_of": report.duplicate_of or "",
            "closed_datetime": report.closed_at.astimezone(zone).isoformat()
            if report.closed_at
            else "",
        },
    )


def _dates(
    zone: ZoneInfo, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The window asked for (naive times are local), by default the last 90 days."""
    if any(t is not None and not 1900 <= t.year <= 9000 for t in (start, end)):
        raise InvalidInput("start_date and end_date must lie between the years 1900 and 9000.")
    start, end = (t.replace(tzinfo=zone) if t and t.tzinfo is None else t for t in (start, end))
    end = end or now + timedelta(seconds=1)
    return start or end - DEFAULT_SPAN, end


@router.get(
    "/v2/requests.{fmt}", dependencies=Reader, responses=_responses(list[wire.ServiceRequest])
)
def list_requests(
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    fmt: Fmt,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=40)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(pattern=r"^(open|closed)(,(open|closed))*$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Response:
    """Public requests, newest first; by ids, service, window (default 90 days) and status."""
    _check_jurisdiction(settings, jurisdiction_id)
    zone = ZoneInfo(settings.timezone)
    statuses = set(status.split(",")) if status else set()
    query: dict[str, Any] = {
        "limit": page_size,
        "offset": (page - 1) * page_size,
        "category": service_code or None,
        "status": statuses.pop() if len(statuses) == 1 else None,
    }
    if service_request_id:
        query["codes"] = [code.strip() for code in service_request_id.split(",") if code.strip()]
    else:
        query["since"], query["until"] = _dates(zone, start_date, end_date, clock.now())
    page_found = service.list_public(session, _valid(PublicQuery, query))
    found = [_published(report, zone) for report in page_found.items]
    return answer(fmt, "service_requests", "request", found)


@router.get(
    "/v2/requests/{service_request_id}.{fmt}",
    dependencies=Reader,
    responses=_responses(list[wire.ServiceRequest]),
)
def get_request(
    session: ReadSession,
    settings: SettingsDep,
    service_request_id: Annotated[str, Path(max_length=40)],
    fmt: Fmt,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """One public request (a list of one, as the text has it)."""
    _check_jurisdiction(settings, jurisdiction_id)
    report = service.get_public(session, service_request_id)
    found = [_published(report, ZoneInfo(settings.timezone))]
    return answer(fmt, "service_requests", "request", found)


@router.get(
    "/v2/servicerequestupdates.{fmt}",
    dependencies=Reader,
    responses=_responses(list[wire.RequestUpdate]),
)
def list_updates(
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    fmt: Fmt,
    jurisdiction_id: Jurisdiction = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> Response:
    """Public updates in a window (default 90 days), oldest first, statuses in upper case."""
    _check_jurisdiction(settings, jurisdiction_id)
    zone = ZoneInfo(settings.timezone)
    since, until = _dates(zone, start_date, end_date, clock.now())
    items = feed.public_updates(
        session, since, until, limit=page_size, offset=(page - 1) * page_size
    )
    found = [
        wire.RequestUpdate(
            update_id=str(item.update_id),
            service_request_id=item.tracking_code,
            status=item.status,
            updated_datetime=item.at.astimezone(zone),
            description=item.note,
            media_url="",
        )
        for item in items
    ]
    return answer(fmt, "service_request_updates", "request_update", found)


def _relay_update(
    session: Session, policy: ReportPolicy, clock: Clock, form: wire.UpdateForm, actor: str
) -> str:
    """A citizen's update from a portal: OPEN on a closed report reopens it, else a note."""
    report = service.report_by_code(session, form.service_request_id)
    if not report.public or report.hidden:
        raise NotFound("No such report.")
    if form.status == "OPEN" and report.closed_at is not None:
        code, reason = report.tracking_code, form.description
        return str(workflow.reopen(session, policy, clock, code, None, reason, actor=actor).id)
    if not form.description:
        raise InvalidInput("description is required.")
    return str(
        workflow.comment(session, clock, report.tracking_code, form.description, actor=actor).id
    )


@router.post(
    "/v2/servicerequestupdates.{fmt}",
    status_code=201,
    responses=_responses(list[wire.UpdateCreated], 201),
)
async def create_update(
    request: Request, principal: Submitter, fmt: Fmt, form: wire.UpdateFormDep
) -> Response:
    """mySociety's extension: a portal relays a citizen's update or asks to reopen."""
    settings, clock = request.app.state.settings, request.app.state.clock
    _check_jurisdiction(settings, form.jurisdiction_id)
    work = partial(
        _relay_update,
        policy=get_report_policy(request),
        clock=clock,
        form=form,
        actor=principal.username,
    )
    update_id = await run_write(request, work)
    created = [wire.UpdateCreated(update_id=update_id)]
    return answer(fmt, "service_request_updates", "request_update", created, status_code=201)
