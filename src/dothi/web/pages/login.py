"""The login page (`/login`) and `POST /logout`."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dothi.accounts.identity import LoginCheck, check_login, logout, record_login
from dothi.accounts.permissions import Principal
from dothi.accounts.throttle import LoginThrottle
from dothi.db.engine import Database
from dothi.errors import Forbidden
from dothi.web.auth import (
    LOGIN_CSRF_COOKIE,
    check_login_csrf,
    client_address,
    end_session,
    login_csrf,
    require,
    set_login_csrf,
    start_session,
)
from dothi.web.deps import ClockDep, DatabaseDep, SettingsDep, WriteSession, run_write
from dothi.web.templating import render

router = APIRouter(include_in_schema=False)

WRONG = "Wrong username or password."
EMPTY = "Enter your username and password."
THROTTLED = "Too many failed attempts. Please wait a few minutes and try again."


def safe_next(target: str) -> str:
    """`target` if it is a path on this site, else `/` (no open redirects)."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith("//")
    if local and not parts.scheme and not parts.netloc and "\\" not in target:
        return target
    return "/"


def _form(
    request: Request, next_url: str, error: str | None = None, status: int = 200, username: str = ""
) -> Response:
    token, cookie = login_csrf(request)
    context = {
        "csrf_token": token,
        "next": safe_next(next_url),
        "error": error,
        "username": username,
    }
    response = render(request, "login.html", context, status_code=status)
    if cookie is not None:
        set_login_csrf(response, request, cookie)
    return response


def _throttle(request: Request) -> LoginThrottle:
    """The app's throttle (it lives as long as the process)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def _password_checks(request: Request) -> anyio.CapacityLimiter:
    """The app's limiter of parallel password checks (each Argon2 check takes ~64 MiB)."""
    limiter: anyio.CapacityLimiter = request.app.state.password_checks
    return limiter


def _check(database: Database, username: str, password: str) -> LoginCheck:
    """Check the password on a read session of its own, closed (its connection back) at once."""
    with database.read() as session:
        return check_login(session, username, password)


@router.get("/login")
def login_page(request: Request, next_url: Annotated[str, Query(alias="next")] = "/") -> Response:
    """The login form, in the user's language."""
    return _form(request, next_url)


@router.post("/login")
async def login(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    clock: ClockDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Check the password; on success set the session cookie and go to `next`.

    The slow check runs on a read session in a worker thread; only the outcome
    (audit entry, last login, rehash) is written, in a short unit of work.
    """
    try:
        check_login_csrf(request, csrf_token)
    except Forbidden as exc:
        return _form(request, next_url, exc.message, 403, username)
    if "\x00" in username:
        return _form(request, next_url, WRONG, 400)
    if not username.strip() or not password:
        return _form(request, next_url, EMPTY, 400, username)
    name = username.strip().lower()
    address = client_address(request, settings.trusted_proxies)
    throttle = _throttle(request)
    if throttle.blocked(name, address):
        return _form(request, next_url, THROTTLED, 429, username)
    # Counted before the slow check, so that guesses sent all at once count too;
    # a success clears it again.
    throttle.failed(name, address)
    check = await anyio.to_thread.run_sync(
        _check, database, name, password, limiter=_password_checks(request)
    )
    user = await run_write(request, partial(record_login, check=check, clock=clock))
    if user is None:
        return _form(request, next_url, WRONG, 401, username)
    throttle.succeeded(name, address)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    start_session(response, settings, user)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout_page(
    session: WriteSession,
    settings: SettingsDep,
    clock: ClockDep,
    actor: Annotated[Principal, require()],
) -> Response:
    """End the user's sessions (every device) and go back to the login page."""
    logout(session, actor, clock)
    response = RedirectResponse("/login", status_code=303)
    end_session(response, settings)
    return response
