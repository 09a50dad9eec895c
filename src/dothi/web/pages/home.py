"""The start page after login: the dashboard, or who you are and where to go."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dothi.accounts.permissions import ROLES, Principal
from dothi.web.auth import csrf_token, require
from dothi.web.pages.dashboard import can_read_dashboard
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: Annotated[Principal, require()]) -> Response:
    """The dashboard for those who read it; others are greeted (anonymous: the login)."""
    if can_read_dashboard(actor):
        query = f"?{request.url.query}" if request.url.query else ""  # ?lang= goes along
        return RedirectResponse(f"/dashboard{query}", status_code=303)
    role = ROLES[actor.role] if actor.role else None
    context = {
        "title": "Start",
        "actor": actor,
        "role_label": role.label if role else "",
        "csrf_token": csrf_token(request),
    }
    return render(request, "home.html", context)
