"""/api/v1 for telemetry: bulk backfills, series for dashboards, dead letters, device commands."""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Page, PageQuery
from dothi.config import Settings
from dothi.connectors.mqtt import BrokerError, parse_broker_url
from dothi.connectors.publisher import WindowedPublisher, publish_command
from dothi.errors import DothiError
from dothi.telemetry import operations
from dothi.telemetry.bulk import LineReader
from dothi.telemetry.messages import Incoming
from dothi.telemetry.models import DeadLetter, DeviceCommand
from dothi.telemetry.pipeline import Pipeline
from dothi.telemetry.readings import EARLIEST
from dothi.telemetry.series import Aggregate, parse_every, read_series
from dothi.web.auth import ContextReader, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep, run_queued, run_write

router = APIRouter(prefix="/api/v1", tags=["telemetry"])

BATCH_LINES = 1000
MAX_LINE = 1 << 20  # characters
COMMAND_WAIT = 5.0  # seconds for the broker to take a command before the answer says "failed"
MAX_ERRORS_LISTED = 1000
KINDS = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "text/csv": "csv",
}


def _in_history(moment: datetime) -> datetime:
    """A time between 1990 (the oldest reading kept) and 2200, in UTC."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(f"must lie between {EARLIEST.year} and {LATEST.year}")
    return utc


Moment = Annotated[AwareDatetime, AfterValidator(_in_history)]
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class LineError(BaseModel):
    line: int
    reason: str


class BulkReport(BaseModel):
    """What became of an upload, line by line for the lines refused."""

    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: list[LineError] = Field(
        [], description=f"The first {MAX_ERRORS_LISTED} refused lines (1-based) and why."
    )


class SeriesPoint(BaseModel):
    t: datetime
    v: float


class SeriesOut(BaseModel):
    entity: str
    attribute: str
    unitCode: str | None  # noqa: N815 (NGSI-LD's name)
    every: str
    agg: Aggregate
    source: str = Field(description="rollups (hourly aggregates) or observations (raw)")
    points: list[SeriesPoint]


class DeadLetterOut(BaseModel):
    id: str
    received_at: datetime
    source: str
    sender: str
    entity_id: str | None
    topic: str | None
    reason: str
    payload: str = Field(description="The message as received (UTF-8, undecodable bytes replaced)")


class CommandIn(BaseModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$", examples=["dim"])]
    arguments: dict[str, Any] = Field({}, examples=[{"illuminanceLevel": 0.3}])


class CommandOut(BaseModel):
    id: str
    entity_id: str
    name: str
    arguments: dict[str, Any]
    issued_by: str
    issued_at: datetime
    sent_at: datetime | None
    status: str


async def _lines(request: Request) -> AsyncIterator[list[str]]:
    """The body's lines in groups of `BATCH_LINES`, decoded as they stream in.

    A line longer than `MAX_LINE` is cut there (and refused as bad JSON or CSV):
    a body without newlines must not grow one string without bound.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[str] = []  # of the line being read
    size, group = 0, []
    async for chunk in request.stream():
        *ends, rest = decoder.decode(chunk).split("\n")
        for end in ends:
            group.append("".join([*pieces, end])[:MAX_LINE])
            pieces, size = [], 0
        if size < MAX_LINE:
            pieces.append(rest[: MAX_LINE - size])
            size += len(pieces[-1])
        if len(group) >= BATCH_LINES:
            yield group
            group = []
    group.append("".join([*pieces, decoder.decode(b"", final=True)])[:MAX_LINE])
    yield group


@router.post(
    "/observations",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {kind: {"schema": {"type": "string"}} for kind in KINDS},
        }
    },
)
async def bulk_ingest(
    request: Request,
    clock: ClockDep,
    principal: Annotated[Principal, require("telemetry:write")],
) -> BulkReport:
    """Backfill observations from JSON lines or CSV, streamed; stored batch by batch.

    Refused lines go to the dead letters and are listed with their line numbers.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in KINDS:
        raise DothiError(f"Send {', '.join(KINDS)}; got {media or 'no content type'}.", status=415)
    reader = LineReader(KINDS[media], principal, clock.now())
    report, line_number = BulkReport(), 0
    async for lines in _lines(request):
        numbered: list[int] = []
        messages: list[Incoming] = []
        for offset, line in enumerate(lines, start=line_number + 1):
            for message in reader.messages([line]):
                numbered.append(offset)
                messages.append(message)
        line_number += len(lines)
        pipeline: Pipeline = request.app.state.pipeline
        outcome = await run_queued(request, pipeline.ingest, messages)
        report.lines += len(messages)
        report.stored += outcome.stored
        report.duplicates += outcome.duplicates
        report.refused += len(outcome.refused)
        for position, reason in outcome.refused:
            if len(report.errors) < MAX_ERRORS_LISTED:
                report.errors.append(LineError(line=numbered[position], reason=reason))
    return report


@router.get("/entities/{entity_id}/series")
def series(
    entity_id: str,
    session: ReadSession,
    settings: SettingsDep,
    reader: ContextReader,
    attr: Annotated[str, Query(max_length=64, description="Attribute, e.g. pm25")],
    start: Annotated[Moment, Query(alias="from", description="Start, with its zone")],
    end: Annotated[Moment, Query(alias="to", description="End (exclusive)")],
    every: Annotated[str, Query(max_length=6, description="Bucket: 15m, 1h, 1d…")] = "1h",
    agg: Aggregate = "avg",
) -> SeriesOut:
    """One attribute of one entity in buckets; whole-hour buckets come from the rollups."""
    found = read_series(
        session,
        reader if reader.is_authenticated else None,
        entity_id,
        attr,
        (start, end),
        parse_every(every),
        agg,
        settings.timezone,
    )
    return SeriesOut(
        entity=found.entity_id,
        attribute=found.attribute,
        unitCode=found.unit_code,
        every=every,
        agg=found.aggregate,
        source=found.source,
        points=[SeriesPoint(t=p.t, v=p.v) for p in found.points],
    )


def _dead_letter_out(rows: Sequence[DeadLetter]) -> list[DeadLetterOut]:
    return [
        DeadLetterOut(
            id=str(row.id),
            received_at=row.received_at,
            source=row.source,
            sender=row.sender,
            entity_id=row.entity_id,
            topic=row.topic,
            reason=row.reason,
            payload=row.payload.decode("utf-8", errors="replace"),
        )
        for row in rows
    ]


@router.get("/dead-letters")
def list_dead_letters(
    session: ReadSession,
    principal: Annotated[Principal, require("telemetry:manage")],
    page: Annotated[PageQuery, Query()],
    source: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[Moment | None, Query()] = None,
) -> Page[DeadLetterOut]:
    """Messages the pipeline refused, newest first, with the reason and the raw payload."""
    query = operations.dead_letters(principal, source, since)
    return paginate(session, query, page, _dead_letter_out)


def _command_out(command: DeviceCommand) -> CommandOut:
    return CommandOut(
        id=str(command.id),
        entity_id=command.entity_id,
        name=command.name,
        arguments=command.arguments,
        issued_by=command.issued_by,
        issued_at=command.issued_at,
        sent_at=command.sent_at,
        status=command.status,
    )


@router.post("/entities/{entity_id}/commands", status_code=201)
async def send(
    entity_id: str,
    body: CommandIn,
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Annotated[Principal, require("telemetry:command")],
) -> CommandOut:
    """Send a command to a device over MQTT (e.g. dim a streetlight); it is recorded and audited.

    Recorded first, sent after the commit, its outcome noted in a second short
    unit of work: waiting for the broker never holds the writer.
    """
    command_id = await run_write(
        request,
        lambda session: (
            operations.issue_command(
                session, principal, entity_id, body.name, body.arguments, clock
            ).id
        ),
    )
    if settings.mqtt_url is None:
        sent_at, status = None, "no broker"
    else:
        payload = {"id": str(command_id), "name": body.name, "arguments": body.arguments}
        sent = await run_in_threadpool(_publish, settings, entity_id, payload)
        sent_at, status = (clock.now(), "sent") if sent else (None, "failed")
    return await run_write(
        request,
        lambda session: _command_out(operations.mark_sent(session, command_id, sent_at, status)),
    )


def _publish(settings: Settings, entity_id: str, payload: dict[str, Any]) -> bool:
    """Send one command on a connection of its own (commands are rare); False if it failed."""
    try:
        with WindowedPublisher(parse_broker_url(settings.mqtt_url or "")) as publisher:
            publish_command(publisher, settings.mqtt_tenant, entity_id, payload, COMMAND_WAIT)
    except BrokerError:
        return False
    return True


@router.get("/entities/{entity_id}/commands")
def list_commands(
    entity_id: str,
    session: ReadSession,
    principal: Annotated[Principal, require("telemetry:command")],
) -> list[CommandOut]:
    """The last 100 commands sent to an entity, newest first."""
    return [_command_out(c) for c in operations.commands_of(session, principal, entity_id)]
