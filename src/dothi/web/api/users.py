"""/api/v1/users and /api/v1/org-units: accounts, their API keys, organisational units.

Reading one user reads on a read session; only when it reveals personal data is
an audit entry written, in a unit of work of its own, before the answer is sent.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from dothi.accounts import apikeys, orgunits, service
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    OrgUnitCreate,
    OrgUnitOut,
    OrgUnitQuery,
    OrgUnitUpdate,
    Page,
    PasswordSet,
    UserCreate,
    UserOut,
    UserQuery,
    UserUpdate,
)
from dothi.errors import NotAuthenticated
from dothi.web.auth import ForgetCachedKeys, require
from dothi.web.deps import ClockDep, ReadSession, WriteSession, run_write

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Reader = Annotated[Principal, require("users:read")]
Writer = Annotated[Principal, require("users:write")]
KeyWriter = Annotated[Principal, require("apikeys:write")]


@router.get("/users")
def list_users(
    session: ReadSession, actor: Reader, query: Annotated[UserQuery, Query()]
) -> Page[UserOut]:
    """Users in your scope (personal fields masked), by username."""
    return service.list_users(session, actor, query)


@router.post("/users", status_code=201)
def create_user(session: WriteSession, clock: ClockDep, actor: Writer, data: UserCreate) -> UserOut:
    """Create a user in your scope, with at most your own rights."""
    return service.create_user(session, actor, data, clock)


@router.get("/users/me")
def me(session: ReadSession, actor: Annotated[Principal, require()]) -> UserOut:
    """Your own account, unmasked."""
    if actor.user_id is None:  # only a user has an account to show
        raise NotAuthenticated("Please log in.")
    out, _ = service.get_user(session, actor, actor.user_id)  # one's own data: no disclosure
    return out


@router.get("/users/{user_id}")
async def get_user(
    request: Request, session: ReadSession, clock: ClockDep, actor: Reader, user_id: uuid.UUID
) -> UserOut:
    """One user; unmasked (and audited) for roles with `users:read_personal`."""
    out, disclosure = await run_in_threadpool(service.get_user, session, actor, user_id)
    if disclosure is not None:
        await run_write(request, partial(disclosure.record, clock=clock))
    return out


@router.patch("/users/{user_id}", dependencies=[ForgetCachedKeys])
def update_user(
    session: WriteSession, clock: ClockDep, actor: Writer, user_id: uuid.UUID, data: UserUpdate
) -> UserOut:
    """Change the fields given; `"active": false` deactivates and ends the user's sessions."""
    return service.update_user(session, actor, user_id, data, clock)


@router.put("/users/{user_id}/password", status_code=204)
def set_password(
    session: WriteSession, clock: ClockDep, actor: Writer, user_id: uuid.UUID, data: PasswordSet
) -> Response:
    """Give the user a new password; their sessions end."""
    service.set_password(session, actor, user_id, data.password.get_secret_value(), clock)
    return Response(status_code=204)


@router.get("/users/{user_id}/api-keys")
def list_api_keys(session: ReadSession, actor: KeyWriter, user_id: uuid.UUID) -> list[ApiKeyOut]:
    """The user's API keys (prefixes only), newest first."""
    return apikeys.list_api_keys(session, actor, user_id)


@router.post("/users/{user_id}/api-keys", status_code=201)
def create_api_key(
    session: WriteSession, clock: ClockDep, actor: KeyWriter, user_id: uuid.UUID, data: ApiKeyCreate
) -> ApiKeyCreated:
    """A new key acting as the user; its `secret` is shown in this answer only."""
    return apikeys.create_api_key(session, actor, user_id, data, clock)


@router.delete("/users/{user_id}/api-keys/{key_id}", dependencies=[ForgetCachedKeys])
def revoke_api_key(
    session: WriteSession,
    clock: ClockDep,
    actor: KeyWriter,
    user_id: uuid.UUID,
    key_id: uuid.UUID,
) -> ApiKeyOut:
    """Revoke a key: it stops working at once."""
    return apikeys.revoke_api_key(session, actor, user_id, key_id, clock)


@router.get("/org-units")
def list_org_units(
    session: ReadSession,
    actor: Annotated[Principal, require("orgunits:read")],
    query: Annotated[OrgUnitQuery, Query()],
) -> Page[OrgUnitOut]:
    """Organisational units in your scope, by code."""
    return orgunits.list_org_units(session, actor, query)


@router.post("/org-units", status_code=201)
def create_org_unit(
    session: WriteSession,
    clock: ClockDep,
    actor: Annotated[Principal, require("orgunits:write")],
    data: OrgUnitCreate,
) -> OrgUnitOut:
    """Create an organisational unit working in an admin unit of your scope."""
    return orgunits.create_org_unit(session, actor, data, clock)


@router.get("/org-units/{org_unit_id}")
def get_org_unit(
    session: ReadSession,
    actor: Annotated[Principal, require("orgunits:read")],
    org_unit_id: uuid.UUID,
) -> OrgUnitOut:
    """One organisational unit in your scope."""
    return orgunits.get_org_unit(session, actor, org_unit_id)


@router.patch("/org-units/{org_unit_id}")
def update_org_unit(
    session: WriteSession,
    clock: ClockDep,
    actor: Annotated[Principal, require("orgunits:write")],
    org_unit_id: uuid.UUID,
    data: OrgUnitUpdate,
) -> OrgUnitOut:
    """Change the fields given; `"active": false` deactivates the unit."""
    return orgunits.update_org_unit(session, actor, org_unit_id, data, clock)
