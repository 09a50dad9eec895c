"""User administration pages: the users in one's scope, and a form to add one.

The pages call the same services as the JSON API, so scope, masking and the audit
log apply unchanged. A new user's password is generated and shown once.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dothi.accounts import orgunits, service
from dothi.accounts.permissions import ROLES, Principal, Role, permissions_of
from dothi.accounts.schemas import OrgUnitQuery, UserCreate, UserQuery
from dothi.core.clock import Clock
from dothi.core.documents import problems
from dothi.core.ids import random_secret
from dothi.errors import DothiError
from dothi.web.auth import csrf_token, require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep, WriteSession
from dothi.web.pages.scope import PAGE_SIZE, page_count, page_offset, places_in_scope
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, require("users:read")]
Writer = Annotated[Principal, require("users:write")]


def _choices(session: Session, actor: Principal, clock: Clock, zone: str) -> dict[str, Any]:
    """What the actor may pick: places and bodies in their scope, roles they may grant."""
    bodies = orgunits.list_org_units(session, actor, OrgUnitQuery(limit=500)).items
    roles = [role for role in Role if permissions_of(role) <= permissions_of(actor.role)]
    return {
        "places": places_in_scope(session, actor, clock, zone),
        "bodies": bodies,
        "roles": roles,
        "roles_info": ROLES,
    }


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Reader,
    role: Annotated[Role | None, Query()] = None,
    ward: Annotated[uuid.UUID | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The users of the actor's scope, personal fields masked."""
    query = UserQuery(role=role, ward=ward, limit=PAGE_SIZE, offset=page_offset(page))
    found = service.list_users(session, actor, query)
    choices = _choices(session, actor, clock, settings.timezone)
    context = {
        "title": "Users",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "found": found,
        "page": page,
        "pages": page_count(found.total),
        "selected": {"role": role, "ward": ward},
        "body_names": {body.id: body.name for body in choices["bodies"]},
        "can_add": actor.can("users:write"),
        **choices,
    }
    return render(request, "users.html", context)


def _form(
    request: Request,
    session: Session,
    actor: Principal,
    clock: Clock,
    zone: str,
    values: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": "Add a user",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "values": values,
        "error": error,
        **_choices(session, actor, clock, zone),
    }
    return render(request, "user_new.html", context, status_code=status_code)


@router.get("/users/new", response_class=HTMLResponse)
def new_user_page(
    request: Request, session: ReadSession, settings: SettingsDep, clock: ClockDep, actor: Writer
) -> HTMLResponse:
    """The form to add a user."""
    return _form(request, session, actor, clock, settings.timezone, {"scope_unit_ids": []})


@router.post("/users/new", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: WriteSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Writer,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    org_unit_id: Annotated[str, Form()] = "",
    scope_unit_ids: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """Create the user; show the generated password once, or the form with what is wrong."""
    values: dict[str, Any] = {
        "username": username,
        "role": role,
        "full_name": full_name or None,
        "email": email or None,
        "phone": phone or None,
        "org_unit_id": org_unit_id or None,
        "scope_unit_ids": scope_unit_ids or [],
    }
    password = random_secret(12)
    try:
        data = UserCreate.model_validate({**values, "password": password})
        with session.begin_nested():  # a refusal half-way leaves nothing behind
            created = service.create_user(session, actor, data, clock)
    except ValidationError as exc:
        return _form(
            request, session, actor, clock, settings.timezone, values, problems(exc, "user"), 422
        )
    except DothiError as exc:
        return _form(
            request, session, actor, clock, settings.timezone, values, exc.message, exc.status
        )
    context = {
        "title": "User added",
        "actor": actor,
        "csrf_token": csrf_token(request),
        "user": created,
        "password": password,
    }
    return render(request, "user_created.html", context, status_code=201)
