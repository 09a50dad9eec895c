"""Pydantic shapes of accounts: what comes in, what goes out, how lists are asked for."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
)

from dothi.accounts.models import OrgUnitKind
from dothi.accounts.permissions import Role
from dothi.places.service import MAX_OFFSET

T = TypeVar("T")
S = TypeVar("S", str, SecretStr)

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _without_nul(value: S) -> S:
    """Refuse NUL: PostgreSQL cannot store it, and no name or code needs it."""
    if "\x00" in (value.get_secret_value() if isinstance(value, SecretStr) else value):
        raise ValueError("NUL characters are not allowed")
    return value


def storable_text(value: str) -> str:
    """Refuse control characters other than tab and line breaks: PostgreSQL cannot store
    NUL, XML cannot carry the others, and no text typed by a person holds them."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(storable_text)]
"""Every string accounts accepts is a `Text` (or built on it)."""


def _phone(value: str) -> str:
    digits = _PHONE_SEPARATORS.sub("", value)
    if not re.fullmatch(r"\+?[0-9]{8,15}", digits):
        raise ValueError("a phone number has 8 to 15 digits")
    return digits


Username = Annotated[
    Text,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$"),
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
]
"""Lower-case letters, digits and `._-`: "An.Nguyen " is stored as "an.nguyen"."""
Password = Annotated[SecretStr, Field(min_length=10, max_length=200), AfterValidator(_without_nul)]
Name = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    Text,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Phone = Annotated[Text, AfterValidator(_phone)]
Code = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Filter = Annotated[Text, StringConstraints(max_length=100)]
EntityType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
"""An NGSI-LD entity type name, e.g. AirQualityObserved."""
Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageQuery(_In):
    """Paging of a list: at most `limit` items after skipping `offset`."""

    limit: Limit = 100
    offset: Offset = 0


class UserCreate(_In):
    """A new user; `scope_unit_ids` are the admin-unit subtrees they will see."""

    username: Username
    password: Password
    role: Role
    full_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    org_unit_id: uuid.UUID | None = None
    scope_unit_ids: list[uuid.UUID] = []


class UserUpdate(_In):
    """A change to a user: only the fields given are changed."""

    role: Role | None = None
    full_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    org_unit_id: uuid.UUID | None = None
    scope_unit_ids: list[uuid.UUID] | None = None
    active: bool | None = None


class PasswordSet(_In):
    """A new password."""

    password: Password


class UserOut(BaseModel):
    """A user as shown; `masked` tells whether the personal fields are masked."""

    id: uuid.UUID
    username: str
    role: Role
    full_name: str | None
    email: str | None
    phone: str | None
    masked: bool
    org_unit_id: uuid.UUID | None
    scope_unit_ids: list[uuid.UUID]
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserQuery(PageQuery):
    """Paging and filters of the user list; `ward` is any admin unit (its subtree)."""

    limit: Limit = 50
    role: Role | None = None
    org_unit_id: uuid.UUID | None = None
    ward: uuid.UUID | None = None
    active: bool | None = None


class OrgUnitCreate(_In):
    """A new organisational unit, working in `admin_unit_id`."""

    code: Code
    name: Name
    kind: OrgUnitKind
    admin_unit_id: uuid.UUID


class OrgUnitUpdate(_In):
    """A change to an organisational unit: only the fields given are changed."""

    name: Name | None = None
    kind: OrgUnitKind | None = None
    admin_unit_id: uuid.UUID | None = None
    active: bool | None = None


class OrgUnitOut(BaseModel):
    """An organisational unit as shown."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    kind: OrgUnitKind
    admin_unit_id: uuid.UUID
    active: bool


class OrgUnitQuery(PageQuery):
    """Paging and filters of the organisational-unit list."""

    kind: OrgUnitKind | None = None
    ward: uuid.UUID | None = None
    active: bool | None = None


class ApiKeyCreate(_In):
    """A new API key for a machine account, optionally limited for integrations."""

    name: Name
    entity_types: list[EntityType] | None = Field(
        None, description="Entity types the key may write (None: any type)."
    )
    provision: bool = Field(False, description="Whether the key may create unknown entities.")


class ApiKeyOut(BaseModel):
    """An API key as listed: the prefix identifies it, the secret is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    entity_types: list[str] | None
    provision: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A key just created, with its secret: shown this once."""

    secret: str


class AuditEntryOut(BaseModel):
    """One entry of the audit log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    admin_unit_id: uuid.UUID | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditQuery(PageQuery):
    """Paging and filters of the audit log (newest first); times carry their zone."""

    action: Filter | None = None
    actor: Filter | None = None
    object_type: Filter | None = None
    object_id: Filter | None = None
    ward: uuid.UUID | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list and the total number of matches."""

    items: list[T]
    total: int
    limit: int
    offset: int
