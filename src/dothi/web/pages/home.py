"""The start page after login: who you are and where to go (the dashboard replaces it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dothi.accounts.permissions import ROLES, Principal
from dothi.web.auth import csrf_token, require
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: Annotated[Principal, require()]) -> HTMLResponse:
    """Greet the logged-in user; anonymous visitors are sent to the login page."""
    role = ROLES[actor.role] if actor.role else None
    context = {
        "title": "Start",
        "actor": actor,
        "role_label": role.label if role else "",
        "csrf_token": csrf_token(request),
    }
    return render(request, "home.html", context)
