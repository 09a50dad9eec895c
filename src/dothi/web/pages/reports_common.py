"""What the report pages share: the public visitor's guard and form token, categories
grouped for a menu, the photos of a form, and rendering with the map settings.

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
from starlette.datastructures import FormData, UploadFile

from dothi.accounts.permissions import Principal
from dothi.config import Settings
from dothi.errors import InvalidInput
from dothi.reports.catalogue import list_categories
from dothi.reports.photos import MAX_BYTES, MAX_PHOTOS
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


def form_photos(form: FormData) -> list[bytes]:
    """The files of a form's `photo` field (none chosen: an empty part, skipped), 3 at most.

    Each is read (from the spooled upload, in the worker thread of the unit of work) to one
    byte past the size limit, so that a bigger one is refused by `reports.photos` with its
    message, without reading it all.
    """
    files = [f for f in form.getlist("photo") if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_PHOTOS:
        raise InvalidInput("At most 3 photos may be attached.")
    return [upload.file.read(MAX_BYTES + 1) for upload in files]


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
