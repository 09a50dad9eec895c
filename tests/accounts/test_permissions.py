"""Roles as data, and what a principal may do and see."""

from __future__ import annotations

import uuid

import pytest

from dothi.accounts.permissions import (
    ANONYMOUS,
    PERMISSIONS,
    ROLES,
    SYSTEM,
    Principal,
    Role,
    check_permission,
)
from dothi.errors import Forbidden, NotAuthenticated

CITY, DISTRICT, WARD_2, WARD_9 = (f"/{uuid.uuid4()}/" for _ in range(4))
DISTRICT_PATH = CITY + DISTRICT[1:]
WARD_2_PATH = DISTRICT_PATH + WARD_2[1:]
WARD_9_PATH = DISTRICT_PATH + WARD_9[1:]


def officer(*scope: str) -> Principal:
    return Principal(uuid.uuid4(), "officer", Role.OFFICER, scope)


def test_every_role_has_a_label_colour_and_known_permissions() -> None:
    assert set(ROLES) == set(Role)
    for info in ROLES.values():
        assert info.label and info.colour
        assert info.permissions <= set(PERMISSIONS)
    assert ROLES[Role.ADMIN].permissions == set(PERMISSIONS)


def test_only_admins_read_personal_data() -> None:
    holders = {role for role, info in ROLES.items() if "users:read_personal" in info.permissions}
    assert holders == {Role.ADMIN}


def test_a_role_grants_its_permissions_and_public_ones() -> None:
    citizen = Principal(uuid.uuid4(), "dan", Role.CITIZEN)
    assert citizen.can("places:read")
    assert not citizen.can("users:read")
    assert officer().can("users:read") and not officer().can("users:write")


def test_anonymous_callers_get_public_permissions_only() -> None:
    assert ANONYMOUS.can("places:read")
    assert not ANONYMOUS.can("users:read")
    with pytest.raises(NotAuthenticated):
        ANONYMOUS.require("users:read")


def test_a_missing_permission_is_forbidden_for_a_logged_in_principal() -> None:
    with pytest.raises(Forbidden):
        officer().require("users:write")


def test_scope_is_a_set_of_subtrees() -> None:
    ward_officer = officer(WARD_2_PATH)
    assert ward_officer.sees(WARD_2_PATH)
    assert ward_officer.sees(WARD_2_PATH + f"{uuid.uuid4()}/")
    assert not ward_officer.sees(WARD_9_PATH)
    assert not ward_officer.sees(DISTRICT_PATH)
    with pytest.raises(Forbidden):
        ward_officer.require_sight(WARD_9_PATH)
    district_operator = officer(DISTRICT_PATH)
    assert district_operator.sees(WARD_2_PATH) and district_operator.sees(WARD_9_PATH)


def test_objects_without_a_place_need_a_root_in_scope() -> None:
    assert not officer(DISTRICT_PATH).sees(None)
    assert officer(CITY).sees(None)
    assert SYSTEM.sees(None) and SYSTEM.sees(WARD_9_PATH)
    assert not ANONYMOUS.sees(None)


def test_unknown_permissions_fail_loudly() -> None:
    assert check_permission("audit:read") == "audit:read"
    with pytest.raises(ValueError, match="audit:raed"):
        check_permission("audit:raed")
