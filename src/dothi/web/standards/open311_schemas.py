"""The shapes of Open311 GeoReport v2 (and mySociety's updates extension) as this server
sends and accepts them; the same models document the API and let schemathesis check it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Form
from pydantic import BaseModel, ConfigDict, Field

from dothi.accounts.schemas import Code, Email, Name, Phone, Text
from dothi.reports.schemas import Address, Lat, Lon, Note, Url

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


class Error(BaseModel):
    code: int
    description: str


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: datetime
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    changeset: datetime
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class Created(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class ServiceRequest(BaseModel):
    """A request as published: never the reporter's contact."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str
    zipcode: str
    lat: float
    long: float
    media_url: str
    extended_attributes: dict[str, Any]


class RequestUpdate(BaseModel):
    update_id: str
    service_request_id: str
    status: str
    updated_datetime: datetime
    description: str
    media_url: str


class UpdateCreated(BaseModel):
    update_id: str


class RequestForm(BaseModel):
    """POST requests (form-encoded). Answers to the category's questions come as
    `attribute[CODE]` fields; the key as `api_key` or in the `X-API-Key` header."""

    model_config = ConfigDict(extra="ignore")

    service_code: Code
    jurisdiction_id: Annotated[Text, Field(max_length=100)] | None = None
    api_key: Annotated[Text, Field(max_length=200)] | None = None
    lat: Lat | None = None
    long: Lon | None = None
    address_string: Address | None = None
    address_id: Annotated[Text, Field(max_length=100)] | None = None
    email: Email | None = None
    device_id: Annotated[Text, Field(max_length=100)] | None = None
    account_id: Annotated[Text, Field(max_length=100)] | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    description: Note = ""
    media_url: Url | None = None


class UpdateForm(BaseModel):
    """POST servicerequestupdates (mySociety): a citizen's update relayed by a portal."""

    model_config = ConfigDict(extra="ignore")

    service_request_id: Code
    status: Literal["OPEN", "CLOSED", "FIXED"] | None = None
    description: Note = ""
    jurisdiction_id: Annotated[Text, Field(max_length=100)] | None = None
    api_key: Annotated[Text, Field(max_length=200)] | None = None
    updated_datetime: datetime | None = None
    update_id: Annotated[Text, Field(max_length=100)] | None = None
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    media_url: Url | None = None


RequestFormDep = Annotated[RequestForm, Form()]
UpdateFormDep = Annotated[UpdateForm, Form()]
