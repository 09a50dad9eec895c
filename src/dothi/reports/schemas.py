"""Pydantic shapes of reports: what citizens and officers send, what each of them may see."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from dothi.accounts.schemas import Code, Email, Name, PageQuery, Phone, Text
from dothi.reports.models import StateKind, Urgency

Description = Annotated[
    Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
Note = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=4000)]
Reason = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Address = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=300)]
Url = Annotated[Text, StringConstraints(pattern=r"^https?://\S+$", max_length=500)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
AttributeValue = Annotated[Text, StringConstraints(max_length=500)]
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeValueDef(BaseModel):
    """One choice of a list attribute."""

    key: str
    name: str


class AttributeDef(BaseModel):
    """An extra question of a category (an Open311 attribute)."""

    code: str
    description: str
    datatype: Datatype = "string"
    required: bool = False
    datatype_description: str = ""
    order: int = 0
    values: list[AttributeValueDef] = []


class CategoryIn(_In):
    """A category as defined by an administrator or the bundled catalogue."""

    code: Code
    name: Name
    name_en: Name
    group: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    description: Note = ""
    keywords: list[Code] = []
    unit_kind: Literal["department", "ward_committee", "police", "utility", "other"]
    attributes: list[AttributeDef] = []
    urgent_hours: Annotated[float, Field(gt=0, le=2000)]
    normal_hours: Annotated[float, Field(gt=0, le=2000)]
    public: bool = True
    active: bool = True
    position: int = 0


class CategoryOut(CategoryIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class StateIn(_In):
    """A state of the workflow; `open311_status` is mySociety's upper-case extended status."""

    code: Annotated[Text, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,29}$")]
    name: Name
    name_en: Name
    kind: StateKind
    open311_status: Annotated[Text, StringConstraints(pattern=r"^[A-Z][A-Z_]{1,39}$")]
    reason_required: bool = False
    position: int = 0


class StateOut(StateIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    builtin: bool


class ReportIn(_In):
    """A new report, from the citizen pages or an Open311 client."""

    category: Code
    description: Description
    lon: Lon
    lat: Lat
    address: Address | None = None
    urgency: Urgency = Urgency.NORMAL
    reporter_name: Name | None = None
    reporter_phone: Phone | None = None
    reporter_email: Email | None = None
    show_name: bool = False
    attributes: dict[Code, AttributeValue | list[AttributeValue]] = {}
    media_url: Url | None = None


class Receipt(BaseModel):
    """What the reporter gets back: the tracking code and, once, the secret to act on it."""

    tracking_code: str
    token: str
    org_unit_name: str | None
    due_at: datetime | None


class StateView(BaseModel):
    code: str
    name: str
    name_en: str
    kind: StateKind
    open311_status: str


class UpdateOut(BaseModel):
    """One public step of a report's history."""

    id: uuid.UUID
    at: datetime
    action: str
    state: StateView | None
    note: str
    org_unit_name: str | None
    photo_ids: list[uuid.UUID] = []


class ReportPublic(BaseModel):
    """What anyone may see of a report: never the reporter's phone or e-mail."""

    tracking_code: str
    category: str
    category_name: str
    state: StateView
    description: str
    address: str | None
    lon: float
    lat: float
    admin_unit_id: uuid.UUID | None
    org_unit_name: str | None
    reporter_name: str | None
    media_url: str | None
    photo_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    duplicate_of: str | None
    updates: list[UpdateOut]


class InternalUpdateOut(UpdateOut):
    actor: str
    public: bool


class ReportDetail(ReportPublic):
    """What officers see: the workflow, deadlines and the reporter masked."""

    id: uuid.UUID
    org_unit_id: uuid.UUID | None
    urgency: Urgency
    source: str
    submitted_by: str
    public: bool
    hidden: bool
    attributes: dict[str, Any]
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    show_name: bool
    accept_due_at: datetime | None
    accepted_at: datetime | None
    overdue: bool
    updates: list[InternalUpdateOut]  # type: ignore[assignment]
    rating: int | None


class ReporterContact(BaseModel):
    """The reporter's contact, unmasked: reading it is audited."""

    tracking_code: str
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None


class PublicQuery(PageQuery):
    """Public list of reports: by category, open or closed, ward, time and place."""

    category: Code | None = None
    status: Literal["open", "closed"] | None = None
    ward: uuid.UUID | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    codes: list[Code] | None = None
    q: Annotated[Text, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    """Words the report's code, category, description or address contains, in any case and
    with or without diacritics."""


class OfficerQuery(PublicQuery):
    """Reports of an officer's area or unit, with their workflow."""

    state: Code | None = None
    org_unit_id: uuid.UUID | None = None
    mine: bool = False
    overdue: bool | None = None


class StateChange(_In):
    """A new state and/or a note; `public` notes reach the citizen."""

    state: Code | None = None
    note: Note = ""
    public: bool = True


class Transfer(_In):
    org_unit_id: uuid.UUID
    reason: Reason


class Recategorise(_In):
    category: Code
    reason: Reason


class RatingIn(_In):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Note = ""


class Box(_In):
    """A rectangle of a photo in pixels (left, top, right, bottom)."""

    left: Annotated[int, Field(ge=0)]
    top: Annotated[int, Field(ge=0)]
    right: Annotated[int, Field(gt=0)]
    bottom: Annotated[int, Field(gt=0)]


class Region(_In):
    """A rectangle as a moderator gives it: its top-left corner and size, in pixels or in
    per cent of the photo's width and height."""

    x: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    y: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    width: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    height: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    unit: Literal["px", "%"] = "px"

    def box(self, width: int, height: int) -> Box:
        """The region in pixels of a photo of `width` x `height`."""
        sx, sy = (width / 100, height / 100) if self.unit == "%" else (1.0, 1.0)
        return Box(
            left=round(self.x * sx),
            top=round(self.y * sy),
            right=round((self.x + self.width) * sx),
            bottom=round((self.y + self.height) * sy),
        )


class PhotoOut(BaseModel):
    """A stored photo as officers and moderators list it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    update_id: uuid.UUID | None
    width: int
    height: int
    hidden: bool


class ResponseIn(_In):
    """A response template: a ready note for a category (None: any) and a state (None: any)."""

    code: Code
    category: Code | None = None
    state: Code | None = None
    title: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    text: Description
    position: int = 0


class ResponseOut(ResponseIn):
    pass


class ModerationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    reason: str
    detail: dict[str, Any]
