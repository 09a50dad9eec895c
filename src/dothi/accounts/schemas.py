"""Pydantic shapes of accounts: what comes in, what goes out, how lists are asked for."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
)

from dothi.accounts.models import OrgUnitKind
from dothi.accounts.permissions import Role

T = TypeVar("T")

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def _phone(value: str) -> str:
    digits = _PHONE_SEPARATORS.sub("", value)
    if not re.fullmatch(r"\+?[0-9]{8,15}", digits):
        raise ValueError("a phone number has 8 to 15 digits")
    return digits


Username = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$"),
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
]
"""Lower-case letters, digits and `._-`: "An.Nguyen " is stored as "an.nguyen"."""
Password = Annotated[SecretStr, Field(min_length=10, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Phone = Annotated[str, AfterValidator(_phone)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class UserQuery(_In):
    """Paging and filters of the user list; `ward` is any admin unit (its subtree)."""

    limit: Limit = 50
    offset: Offset = 0
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


class OrgUnitQuery(_In):
    """Paging and filters of the organisational-unit list."""

    limit: Limit = 100
    offset: Offset = 0
    kind: OrgUnitKind | None = None
    ward: uuid.UUID | None = None
    active: bool | None = None


class ApiKeyCreate(_In):
    """A new API key for a machine account."""

    name: Name


class ApiKeyOut(BaseModel):
    """An API key as listed: the prefix identifies it, the secret is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
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


class AuditQuery(_In):
    """Paging and filters of the audit log (newest first)."""

    limit: Limit = 100
    offset: Offset = 0
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    ward: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list and the total number of matches."""

    items: list[T]
    total: int
    limit: int
    offset: int
