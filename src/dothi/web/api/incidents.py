"""/api/v1 for incidents and how the IOC acts on them: incidents, their SOP steps, the SOP
templates, directives and the leader's board, shifts and their handover, indicators."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Limit, Offset, Page
from dothi.incidents import directives, merging, service, shifts, sops, steps
from dothi.incidents.indicators import indicators
from dothi.incidents.models import IncidentStep, Shift
from dothi.incidents.schemas import (
    BoardRow,
    DirectiveDetail,
    DirectiveIn,
    DirectiveOut,
    DirectiveQuery,
    DispatchIn,
    FromAlarmIn,
    FromReportIn,
    Handover,
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    IncidentQuery,
    IncidentUpdate,
    Indicators,
    LinkIn,
    LinkOut,
    LogIn,
    LogOut,
    MessageIn,
    NoteIn,
    Period,
    ProgressIn,
    ShiftOut,
    SkipIn,
    SopOut,
    SopStartIn,
    StatusIn,
    StepOut,
    StepTemplateOut,
    Suggestion,
    TargetOut,
)
from dothi.incidents.views import incident_out, step_out, target_out
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep, run_write

router = APIRouter(prefix="/api/v1", tags=["incidents"])

Reader = Annotated[Principal, require("incidents:read")]
Handler = Annotated[Principal, require("incidents:handle")]
Manager = Annotated[Principal, require("incidents:manage")]
Issuer = Annotated[Principal, require("directives:issue")]
UnitHandler = Annotated[Principal, require("directives:handle")]
Keeper = Annotated[Principal, require("shifts:keep")]


# Incidents ----------------------------------------------------------------------------------


@router.get("/incidents")
def list_incidents(
    session: ReadSession, actor: Reader, query: Annotated[IncidentQuery, Query()]
) -> Page[IncidentOut]:
    """The incidents of one's area, newest first (`open`: new, dispatched or in progress)."""
    return service.list_incidents(session, actor, query)


@router.post("/incidents", status_code=201)
async def open_incident(
    body: IncidentIn, request: Request, clock: ClockDep, settings: SettingsDep, actor: Manager
) -> IncidentOut:
    """Open an incident at a point (its ward is found); its type's SOP starts."""
    return await run_write(
        request,
        lambda s: incident_out(service.open_incident(s, actor, body, clock, settings.timezone)),
    )


@router.post("/incidents/from-alarm", status_code=201)
async def open_from_alarm(
    body: FromAlarmIn, request: Request, clock: ClockDep, actor: Manager
) -> IncidentOut:
    """Open an incident from an alarm in one call: its place, ward and title are copied."""
    return await run_write(
        request, lambda s: incident_out(service.open_from_alarm(s, actor, body, clock))
    )


@router.post("/incidents/from-report", status_code=201)
async def open_from_report(
    body: FromReportIn, request: Request, clock: ClockDep, actor: Manager
) -> IncidentOut:
    """Open an incident from a citizen report in one call, by its tracking code."""
    return await run_write(
        request, lambda s: incident_out(service.open_from_report(s, actor, body, clock))
    )


@router.get("/incidents/{incident_id}")
def get_incident(
    incident_id: uuid.UUID, session: ReadSession, clock: ClockDep, actor: Reader
) -> IncidentDetail:
    """One incident, its causes, the steps and timeline one may see (a unit: its own)."""
    return service.incident_detail(session, actor, incident_id, clock)


@router.patch("/incidents/{incident_id}")
async def update_incident(
    incident_id: uuid.UUID, body: IncidentUpdate, request: Request, clock: ClockDep, actor: Manager
) -> IncidentOut:
    return await run_write(
        request,
        lambda s: incident_out(service.update_incident(s, actor, incident_id, body, clock)),
    )


@router.post("/incidents/{incident_id}/status")
async def change_status(
    incident_id: uuid.UUID, body: StatusIn, request: Request, clock: ClockDep, actor: Manager
) -> IncidentOut:
    """Resolve (every step done or skipped), close, or reopen an incident."""
    return await run_write(
        request,
        lambda s: incident_out(service.change_status(s, actor, incident_id, body, clock)),
    )


@router.post("/incidents/{incident_id}/links", status_code=201)
async def add_link(
    incident_id: uuid.UUID, body: LinkIn, request: Request, clock: ClockDep, actor: Manager
) -> LinkOut:
    """Merge a cause into the incident: an alarm, a report, a camera event, a message."""
    return await run_write(
        request,
        lambda s: LinkOut.model_validate(service.add_link(s, actor, incident_id, body, clock)),
    )


@router.get("/incidents/{incident_id}/suggestions")
def suggestions(incident_id: uuid.UUID, session: ReadSession, actor: Reader) -> list[Suggestion]:
    """Alarms and reports of the same kind near the incident in place and time."""
    return merging.suggestions(session, actor, incident_id)


@router.post("/incidents/{incident_id}/messages", status_code=204)
async def add_message(
    incident_id: uuid.UUID, body: MessageIn, request: Request, clock: ClockDep, actor: Handler
) -> None:
    """A message and attachments (name and URL) on the incident's timeline."""
    await run_write(request, lambda s: service.add_message(s, actor, incident_id, body, clock))


@router.post("/incidents/{incident_id}/sop", status_code=201)
async def start_sop(
    incident_id: uuid.UUID, body: SopStartIn, request: Request, clock: ClockDep, actor: Manager
) -> list[StepOut]:
    """Start the SOP the operator picked, for an incident that follows none yet."""

    def work(session: Session) -> list[StepOut]:
        started = steps.start_on(session, actor, incident_id, body.sop, clock)
        return [step_out(step, clock.now()) for step in started]

    return await run_write(request, work)


# SOP steps ----------------------------------------------------------------------------------


@router.get("/sop-steps")
def unit_steps(
    session: ReadSession, clock: ClockDep, actor: Reader, open_only: bool = True
) -> list[StepOut]:
    """The steps dispatched to one's unit, soonest due first."""
    return [step_out(s, clock.now()) for s in steps.unit_steps(session, actor, open_only)]


async def _step(
    request: Request, clock: ClockDep, work: Callable[[Session], IncidentStep]
) -> StepOut:
    return await run_write(request, lambda s: step_out(work(s), clock.now()))


@router.post("/sop-steps/{step_id}/dispatch")
async def dispatch_step(
    step_id: uuid.UUID, body: DispatchIn, request: Request, clock: ClockDep, actor: Manager
) -> StepOut:
    """Give a step to a unit of its kind (none named: the only one in the incident's ward)."""
    return await _step(
        request,
        clock,
        lambda s: steps.dispatch(s, actor, step_id, body.org_unit_id, body.note, clock),
    )


@router.post("/sop-steps/{step_id}/acknowledge")
async def acknowledge_step(
    step_id: uuid.UUID, body: NoteIn, request: Request, clock: ClockDep, actor: Handler
) -> StepOut:
    """One's unit has the step."""
    return await _step(
        request, clock, lambda s: steps.acknowledge(s, actor, step_id, body.note, clock)
    )


@router.post("/sop-steps/{step_id}/done")
async def finish_step(
    step_id: uuid.UUID, body: NoteIn, request: Request, clock: ClockDep, actor: Handler
) -> StepOut:
    """One's unit has done the step."""
    return await _step(request, clock, lambda s: steps.finish(s, actor, step_id, body.note, clock))


@router.post("/sop-steps/{step_id}/skip")
async def skip_step(
    step_id: uuid.UUID, body: SkipIn, request: Request, clock: ClockDep, actor: Handler
) -> StepOut:
    """The step is not needed here: say why."""
    return await _step(request, clock, lambda s: steps.skip(s, actor, step_id, body.reason, clock))


# SOP templates ------------------------------------------------------------------------------


def _sop_out(template: sops.Sop) -> SopOut:
    return SopOut(
        code=template.code,
        name=template.name,
        alarm_rules=list(template.alarm_rules),
        report_categories=list(template.report_categories),
        steps=[
            StepTemplateOut(
                position=position,
                text=step.text,
                unit_kind=step.unit_kind,
                role=step.role,
                minutes=step.minutes,
            )
            for position, step in enumerate(template.steps, start=1)
        ],
    )


@router.get("/sops")
def list_sops(_actor: Reader) -> list[SopOut]:
    """The SOP of every incident type, as shipped."""
    return [_sop_out(template) for template in sops.catalogue().values()]


@router.get("/sops/{code}")
def get_sop(code: str, _actor: Reader) -> SopOut:
    return _sop_out(sops.sop(code))


# Directives ---------------------------------------------------------------------------------


@router.get("/directives")
def list_directives(
    session: ReadSession,
    clock: ClockDep,
    actor: UnitHandler,
    query: Annotated[DirectiveQuery, Query()],
) -> list[DirectiveOut]:
    """Directives sent to one's unit (issuers: to the units of their area), by deadline."""
    return directives.list_directives(session, actor, query, clock)


@router.post("/directives", status_code=201)
async def issue_directive(
    body: DirectiveIn, request: Request, clock: ClockDep, actor: Issuer
) -> DirectiveDetail:
    """Send a directive to units of one's area, with a priority and a deadline."""

    def work(session: Session) -> DirectiveDetail:
        issued = directives.issue(session, actor, body, clock)
        return directives.get_directive(session, actor, issued.id, clock)

    return await run_write(request, work)


@router.get("/directives/board")
def directive_board(session: ReadSession, clock: ClockDep, actor: Issuer) -> list[BoardRow]:
    """The leader's board: each unit's directives by state, overdue first."""
    return directives.board(session, actor, clock)


@router.get("/directives/{directive_id}")
def get_directive(
    directive_id: uuid.UUID, session: ReadSession, clock: ClockDep, actor: UnitHandler
) -> DirectiveDetail:
    return directives.get_directive(session, actor, directive_id, clock)


def _part(
    clock: ClockDep, work: Callable[[Session], directives.Part]
) -> Callable[[Session], TargetOut]:
    return lambda s: target_out(*work(s), clock.now())


@router.post("/directives/{directive_id}/acknowledge")
async def acknowledge_directive(
    directive_id: uuid.UUID, request: Request, clock: ClockDep, actor: UnitHandler
) -> TargetOut:
    """One's unit has received the directive."""
    return await run_write(
        request, _part(clock, lambda s: directives.acknowledge(s, actor, directive_id, clock))
    )


@router.post("/directives/{directive_id}/progress")
async def report_progress(
    directive_id: uuid.UUID, body: ProgressIn, request: Request, clock: ClockDep, actor: UnitHandler
) -> TargetOut:
    """How far one's unit is: percent, text, attachments."""
    return await run_write(
        request,
        _part(clock, lambda s: directives.report_progress(s, actor, directive_id, body, clock)),
    )


@router.post("/directives/{directive_id}/close")
async def close_directive(
    directive_id: uuid.UUID, body: NoteIn, request: Request, clock: ClockDep, actor: UnitHandler
) -> TargetOut:
    """One's unit has done what was asked."""
    return await run_write(
        request,
        _part(clock, lambda s: directives.close(s, actor, directive_id, body.note, clock)),
    )


# Shifts -------------------------------------------------------------------------------------


def _shift_out(shift: Shift) -> ShiftOut:
    return ShiftOut.model_validate(shift)


@router.get("/shifts")
def list_shifts(
    session: ReadSession, actor: Keeper, limit: Limit = 50, offset: Offset = 0
) -> list[ShiftOut]:
    """Shifts, newest first."""
    return [_shift_out(shift) for shift in shifts.list_shifts(session, actor, limit, offset)]


@router.post("/shifts", status_code=201)
async def open_shift(request: Request, clock: ClockDep, actor: Keeper) -> ShiftOut:
    """Start one's shift."""
    return await run_write(request, lambda s: _shift_out(shifts.open_shift(s, actor, clock)))


@router.get("/shifts/{shift_id}")
def get_shift(shift_id: uuid.UUID, session: ReadSession, actor: Keeper) -> ShiftOut:
    return _shift_out(shifts.get_shift(session, actor, shift_id))


@router.get("/shifts/{shift_id}/log")
def shift_log(shift_id: uuid.UUID, session: ReadSession, actor: Keeper) -> list[LogOut]:
    """The log book of a shift, oldest first."""
    shifts.get_shift(session, actor, shift_id)
    return [LogOut.model_validate(entry) for entry in shifts.log_of(session, shift_id)]


@router.post("/shifts/{shift_id}/log", status_code=201)
async def write_log(
    shift_id: uuid.UUID, body: LogIn, request: Request, clock: ClockDep, actor: Keeper
) -> LogOut:
    """A notable event in the log book of one's open shift."""
    return await run_write(
        request,
        lambda s: LogOut.model_validate(shifts.write_log(s, actor, shift_id, body, clock)),
    )


@router.get("/shifts/{shift_id}/handover")
def preview_handover(
    shift_id: uuid.UUID, session: ReadSession, clock: ClockDep, actor: Keeper
) -> Handover:
    """The handover note one's open shift would leave if it closed now."""
    return shifts.preview_handover(session, actor, shift_id, clock)


@router.post("/shifts/{shift_id}/close")
async def close_shift(
    shift_id: uuid.UUID, body: NoteIn, request: Request, clock: ClockDep, actor: Keeper
) -> ShiftOut:
    """End one's shift: the handover note lists what is open now."""
    return await run_write(
        request, lambda s: _shift_out(shifts.close_shift(s, actor, shift_id, body.note, clock))
    )


@router.post("/shifts/{shift_id}/sign")
async def sign_handover(
    shift_id: uuid.UUID, request: Request, clock: ClockDep, actor: Keeper
) -> ShiftOut:
    """The next operator signs the handover note of a closed shift."""
    return await run_write(
        request, lambda s: _shift_out(shifts.sign_handover(s, actor, shift_id, clock))
    )


# Indicators ---------------------------------------------------------------------------------


@router.get("/incident-indicators")
def incident_indicators(
    session: ReadSession, clock: ClockDep, actor: Reader, period: Annotated[Period, Query()]
) -> Indicators:
    """Time to acknowledge and to resolve by type, SOP steps and directives on time."""
    return indicators(session, actor, period, clock)
