"""Pydantic shapes of incidents, SOP steps, directives and shifts: what comes in, what goes out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from dothi.accounts.schemas import PageQuery, Text
from dothi.incidents.vocab import IncidentStatus, LinkKind, Priority


def _filled(value: str) -> str:
    """Refuse text that is only spaces (where something must be said)."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


Words = Annotated[Text, StringConstraints(max_length=5000), AfterValidator(str.strip)]
Title = Annotated[Text, StringConstraints(max_length=200), AfterValidator(_filled)]
Reason = Annotated[Text, StringConstraints(max_length=2000), AfterValidator(_filled)]
TypeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Units = Annotated[list[uuid.UUID], Field(max_length=20)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentIn(_In):
    """A file kept elsewhere: a name and a URL or a reference in the document system."""

    name: Title
    ref: Annotated[Text, StringConstraints(max_length=1000), AfterValidator(_filled)]


Attachments = Annotated[list[AttachmentIn], Field(max_length=20)]


class _Opening(_In):
    """What every way of opening an incident may set; the SOP of the type starts unless
    another is named or `start_sop` is false."""

    priority: Priority | None = None
    sop: TypeCode | None = None
    start_sop: bool = True
    lead_unit_id: uuid.UUID | None = None
    helping_unit_ids: Units = []


class IncidentIn(_Opening):
    """An incident opened by hand, e.g. from a message of the city (`message`)."""

    type: TypeCode
    title: Title
    description: Words = ""
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    message: Words | None = None


class FromAlarmIn(_Opening):
    """Open an incident from an alarm: its place, ward and title are copied."""

    alarm_id: uuid.UUID
    type: TypeCode | None = None
    title: Title | None = None


class FromReportIn(_Opening):
    """Open an incident from a citizen report, by its tracking code."""

    tracking_code: Annotated[Text, StringConstraints(strip_whitespace=True, max_length=12)]
    type: TypeCode | None = None
    title: Title | None = None


class IncidentUpdate(_In):
    """The fields to change; the others stay."""

    title: Title | None = None
    description: Words | None = None
    priority: Priority | None = None
    lead_unit_id: uuid.UUID | None = None
    helping_unit_ids: Units | None = None


class StatusIn(_In):
    status: IncidentStatus
    note: Words = ""


class LinkIn(_In):
    """A cause to merge in: an alarm id, a report's tracking code, a camera event, a message."""

    kind: LinkKind
    ref: Annotated[Text, StringConstraints(max_length=300), AfterValidator(_filled)]
    note: Words = ""


class MessageIn(_In):
    text: Words = ""
    attachments: Attachments = []


class SopStartIn(_In):
    sop: TypeCode


class DispatchIn(_In):
    """The unit to dispatch to; none: the only unit of the step's kind in the ward."""

    org_unit_id: uuid.UUID | None = None
    note: Words = ""


class NoteIn(_In):
    note: Words = ""


class SkipIn(_In):
    reason: Reason


class IncidentQuery(PageQuery):
    status: Literal["open", "all"] | IncidentStatus = "open"
    type: TypeCode | None = None
    ward: uuid.UUID | None = None


class DirectiveIn(_In):
    title: Title
    content: Annotated[Text, StringConstraints(max_length=5000), AfterValidator(_filled)]
    priority: Priority = Priority.NORMAL
    deadline: AwareDatetime
    unit_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)]
    incident_id: uuid.UUID | None = None


class ProgressIn(_In):
    percent: Annotated[int, Field(ge=0, le=100)]
    text: Words = ""
    attachments: Attachments = []


class DirectiveQuery(PageQuery):
    status: Literal["open", "all", "overdue"] = "open"


class LogIn(_In):
    text: Reason
    incident_id: uuid.UUID | None = None


class Period(_In):
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


# What goes out -------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Label(BaseModel):
    code: str
    label: str


class LinkOut(_Out):
    kind: str
    ref: str
    note: str
    linked_by: str
    linked_at: datetime


class StepOut(_Out):
    id: uuid.UUID
    position: int
    text: str
    unit_kind: str | None
    role: str | None
    org_unit_id: uuid.UUID | None
    target_minutes: int
    due_at: datetime
    state: Label
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    skip_reason: str | None
    escalation_level: int
    reminders: int
    late: bool


class TimelineOut(_Out):
    at: datetime
    actor: str
    kind: str
    text: str
    org_unit_id: uuid.UUID | None
    attachments: list[dict[str, str]]
    detail: dict[str, Any]


class IncidentOut(_Out):
    id: uuid.UUID
    type: str
    title: str
    description: str
    lon: float
    lat: float
    ward_id: uuid.UUID
    priority: Label
    status: Label
    lead_unit_id: uuid.UUID | None
    helping_unit_ids: list[uuid.UUID]
    sop: str | None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class IncidentDetail(IncidentOut):
    links: list[LinkOut]
    steps: list[StepOut]
    timeline: list[TimelineOut]


class Suggestion(BaseModel):
    """An alarm or a report of the same kind near the incident, to merge in as a link."""

    kind: LinkKind
    ref: str
    title: str
    lon: float
    lat: float
    at: datetime
    distance_m: float


class StepTemplateOut(BaseModel):
    position: int
    text: str
    unit_kind: str | None
    role: str | None
    minutes: int


class SopOut(BaseModel):
    code: str
    name: str
    alarm_rules: list[str]
    report_categories: list[str]
    steps: list[StepTemplateOut]


class TargetOut(_Out):
    org_unit_id: uuid.UUID
    state: Label
    percent: int
    acknowledged_at: datetime | None
    closed_at: datetime | None
    reminded_at: datetime | None
    overdue_at: datetime | None
    overdue: bool


class DirectiveOut(_Out):
    id: uuid.UUID
    title: str
    content: str
    priority: Label
    deadline: datetime
    incident_id: uuid.UUID | None
    issued_by: str
    issued_at: datetime
    targets: list[TargetOut]


class DirectiveDetail(DirectiveOut):
    timeline: list[TimelineOut]


class BoardItem(BaseModel):
    directive_id: uuid.UUID
    title: str
    priority: Label
    deadline: datetime
    state: Label
    percent: int
    overdue: bool


class BoardRow(BaseModel):
    """One unit on the leader's board: how many directives in each state, and which."""

    org_unit_id: uuid.UUID
    org_unit_name: str
    counts: dict[str, int]
    items: list[BoardItem]


class HandoverItem(BaseModel):
    kind: Literal["alarm", "incident", "step", "directive"]
    id: str
    title: str
    detail: str
    since: datetime


class Handover(BaseModel):
    """What is open at a moment, for the next operator: the shift's handover note."""

    at: datetime
    alarms: list[HandoverItem]
    incidents: list[HandoverItem]
    overdue_steps: list[HandoverItem]
    overdue_directives: list[HandoverItem]
    log: list[str]


class ShiftOut(_Out):
    id: uuid.UUID
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    handover: Handover | None
    handover_note: str
    signed_by: str | None
    signed_at: datetime | None


class LogOut(_Out):
    at: datetime
    actor: str
    text: str
    incident_id: uuid.UUID | None


class Durations(BaseModel):
    count: int
    mean_minutes: float | None
    median_minutes: float | None


class TypeIndicators(BaseModel):
    type: str
    incidents: int
    to_acknowledge: Durations
    to_resolve: Durations
    steps_judged: int
    steps_on_time: int
    steps_on_time_share: float | None


class UnitIndicators(BaseModel):
    org_unit_id: uuid.UUID
    directives: int
    on_time: int
    late: int
    on_time_share: float | None


class Indicators(BaseModel):
    since: datetime | None
    until: datetime | None
    by_type: list[TypeIndicators]
    directives_by_unit: list[UnitIndicators]
