"""What the report pages share: the public visitor's guard and form token, the policy,
categories grouped for a menu, and rendering with the map settings.

Citizens are not logged in, so their forms carry the signed-cookie token of the login
form (a double-submit token) instead of a session's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.config import Settings
from dothi.reports.catalogue import list_categories
from dothi.reports.policy import ReportPolicy
from dothi.reports.schemas import CategoryOut
from dothi.web.auth import (
    CSRF_FIELD,
    SAFE_METHODS,
    Caller,
    check_login_csrf,
    csrf_token,
    guard,
    identify_caller,
    login_csrf,
    set_login_csrf,
)
from dothi.web.templating import render


@guard
async def visitor(request: Request) -> Principal:
    """Anyone, logged in or not; an unsafe request must echo the public form token."""
    found = await identify_caller(request)
    if request.method not in SAFE_METHODS:
        submitted = (await request.form()).get(CSRF_FIELD)
        check_login_csrf(request, submitted if isinstance(submitted, str) else "")
    return found.principal


Visitor = Annotated[Principal, Depends(visitor)]


def report_policy(request: Request) -> ReportPolicy:
    """The deployment's report rules, built once per app."""
    policy: ReportPolicy | None = getattr(request.app.state, "report_policy", None)
    if policy is None:
        policy = ReportPolicy.from_settings(request.app.state.settings)
        request.app.state.report_policy = policy
    return policy


def map_settings(settings: Settings) -> dict[str, str]:
    """What the map script needs: the tile layer and its credit (empty: no tiles)."""
    return {"tiles": settings.map_tiles_url, "attribution": settings.map_tiles_attribution}


def render_public(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page whose forms anyone may send: the public form token comes with it."""
    token, cookie = login_csrf(request)
    settings: Settings = request.app.state.settings
    caller: Caller | None = getattr(request.state, "caller", None)
    context = {
        "actor": caller.principal if caller else None,
        "form_token": token,
        "csrf_token": csrf_token(request),
        "map": map_settings(settings),
        **context,
    }
    response = render(request, name, context, status_code)
    if cookie is not None:
        set_login_csrf(response, request, cookie)
    return response


@dataclass(frozen=True, slots=True)
class Group:
    """Categories under one heading of the menu."""

    name: str
    categories: list[CategoryOut]


def category_groups(session: Session) -> list[Group]:
    """Active categories by group, in catalogue order."""
    groups: dict[str, list[CategoryOut]] = {}
    for category in list_categories(session):
        groups.setdefault(category.group, []).append(category)
    return [Group(name, items) for name, items in groups.items()]


def category_names(groups: Sequence[Group], lang: str) -> dict[str, str]:
    """Category code -> name in the page's language."""
    return {
        c.code: c.name if lang == "vi" else c.name_en for group in groups for c in group.categories
    }
