"""Logging in through the web, for the tests of pages and APIs."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from dothi.config import Settings
from dothi.web.auth import SESSION_COOKIE, decode_session
from tests.accounts.helpers import PASSWORD


def form_token(page: Response) -> str:
    """The CSRF token a page's form posts."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the login form carries no CSRF token"
    return found.group(1)


def post_login(
    client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/"
) -> Response:
    """Fill in and send the login form."""
    token = form_token(client.get("/login"))
    form = {"username": username, "password": password, "csrf_token": token, "next": next_url}
    answer: Response = client.post("/login", data=form, follow_redirects=False)
    return answer


def login(client: TestClient, settings: Settings, username: str) -> dict[str, str]:
    """Log in; return the CSRF header that unsafe JSON calls of this session need."""
    assert post_login(client, username).status_code == 303
    session = decode_session(settings, client.cookies[SESSION_COOKIE])
    assert session is not None
    return {"X-CSRF-Token": session.csrf}
