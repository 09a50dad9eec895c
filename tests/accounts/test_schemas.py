"""What the accounts schemas refuse: NUL characters, zone-less times, unbounded paging."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from dothi.accounts.schemas import (
    ApiKeyCreate,
    AuditQuery,
    OrgUnitCreate,
    PasswordSet,
    UserCreate,
    UserQuery,
    UserUpdate,
)

NUL = "a\x00b"
ID = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (UserCreate, {"username": NUL, "password": "một mật khẩu dài", "role": "officer"}),
        (UserCreate, {"username": "an", "password": f"{NUL} dài dài dài", "role": "officer"}),
        (UserUpdate, {"full_name": NUL}),
        (UserUpdate, {"email": f"{NUL}@example.vn"}),
        (UserUpdate, {"phone": f"0912{NUL}345678"}),
        (PasswordSet, {"password": f"{NUL} dài dài dài"}),
        (OrgUnitCreate, {"code": NUL, "name": "x", "kind": "police", "admin_unit_id": ID}),
        (ApiKeyCreate, {"name": NUL}),
        (AuditQuery, {"actor": NUL}),
        (AuditQuery, {"object_id": NUL}),
    ],
)
def test_nul_characters_are_refused(model: type[BaseModel], fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(fields)


def test_audit_times_must_carry_their_zone() -> None:
    with pytest.raises(ValidationError):
        AuditQuery.model_validate({"since": "2026-01-15T08:00:00"})
    assert AuditQuery.model_validate({"until": "2026-01-15T08:00:00+07:00"}).until is not None


@pytest.mark.parametrize("offset", [-1, 10**9 + 1, 2**63])
def test_offsets_are_bounded(offset: int) -> None:
    with pytest.raises(ValidationError):
        UserQuery(offset=offset)
