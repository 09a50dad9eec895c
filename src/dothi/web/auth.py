"""Who is calling, and may they: session cookies, CSRF, API keys, `require(permission)`.

Browsers carry a signed session cookie (user id, session version, CSRF token);
unsafe requests authenticated by it must echo the CSRF token in the
`X-CSRF-Token` header or a `csrf_token` form field. Machines send an API key
(`Authorization: Bearer <key>` or `X-API-Key`), which needs no CSRF token:
no browser sends it on its own. Every route declares what it needs with
`require(...)`; nothing else decides access.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Request, Response, params
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from dothi.accounts.apikeys import authenticate_api_key, touch_api_key
from dothi.accounts.identity import load_principal
from dothi.accounts.models import User
from dothi.accounts.permissions import ANONYMOUS, Principal, check_permission
from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.errors import Forbidden, NotAuthenticated

log = structlog.get_logger(__name__)

SESSION_COOKIE = "dothi_session"
LOGIN_CSRF_COOKIE = "dothi_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_CSRF_MAX_AGE = 3600
KEY_CACHE_SECONDS = 10.0
KEY_CACHE_SIZE = 10_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a session cookie carries."""

    user_id: uuid.UUID
    version: int
    csrf: str


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal of a request and the session it came with (None for API keys, anonymous)."""

    principal: Principal
    session: SessionData | None


def _signer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=f"dothi.{purpose}")


def _set_cookie(response: Response, settings: Settings, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name, value, max_age=age, httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def start_session(response: Response, settings: Settings, user: User) -> None:
    """Log `user` in on this browser: a fresh session cookie with a fresh CSRF token."""
    data = {"u": str(user.id), "v": user.session_version, "c": secrets.token_urlsafe(24)}
    value = _signer(settings, "session").dumps(data)
    _set_cookie(response, settings, SESSION_COOKIE, value, settings.session_max_age)


def end_session(response: Response, settings: Settings) -> None:
    """Remove the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def session_data(request: Request) -> SessionData | None:
    """The session of this request's cookie, if valid and unexpired (the user is checked apart)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return decode_session(request.app.state.settings, cookie) if cookie else None


def decode_session(settings: Settings, cookie: str) -> SessionData | None:
    """What a session cookie value carries, or None when forged, damaged or expired."""
    try:
        data = _signer(settings, "session").loads(cookie, max_age=settings.session_max_age)
        return SessionData(uuid.UUID(data["u"]), int(data["v"]), str(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def login_csrf(request: Request) -> tuple[str, str | None]:
    """The login form's CSRF token, and a new cookie value to set when there was none."""
    token = _login_csrf_token(request)
    if token is not None:
        return token, None
    token = secrets.token_urlsafe(24)
    settings: Settings = request.app.state.settings
    return token, _signer(settings, "login-csrf").dumps(token)


def set_login_csrf(response: Response, request: Request, cookie: str) -> None:
    """Store the login form's CSRF token in its signed cookie."""
    _set_cookie(response, request.app.state.settings, LOGIN_CSRF_COOKIE, cookie, LOGIN_CSRF_MAX_AGE)


def check_login_csrf(request: Request, submitted: str) -> None:
    """Raise Forbidden unless the login form came back with the token of its cookie."""
    token = _login_csrf_token(request)
    if token is None or not hmac.compare_digest(token, submitted):
        raise Forbidden("The form has expired. Please try again.")


def _login_csrf_token(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie:
        return None
    try:
        return str(_signer(settings, "login-csrf").loads(cookie, max_age=LOGIN_CSRF_MAX_AGE))
    except BadSignature:
        return None


def _api_key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


class KeyCache:
    """API keys checked in the last `KEY_CACHE_SECONDS`: a busy sensor's key is looked up
    once in that time, not on every request. A revoked key (or a deactivated user) keeps
    working for at most that long; unknown keys are never cached."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(secret)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def clear(self) -> None:
        self._entries.clear()

    def put(self, secret: str, principal: Principal) -> None:
        if len(self._entries) >= KEY_CACHE_SIZE:
            self._entries.clear()  # crude but bounded: the live keys come back at once
        self._entries[secret] = (time.monotonic() + KEY_CACHE_SECONDS, principal)


def forget_cached_keys(request: Request) -> Iterator[None]:
    """After the route's unit of work commits, forget every cached key: for routes that
    revoke keys or change what users may do, so that the change holds at once here."""
    yield
    request.app.state.key_cache.clear()


ForgetCachedKeys = Depends(forget_cached_keys, scope="function")


def _check_key(request: Request, key: str) -> Principal | None:
    """The principal of a live API key, looked up and remembered (blocking: in a thread)."""
    database: Database = request.app.state.database
    with database.read() as session:
        match = authenticate_api_key(session, key)
    if match is None:
        return None
    clock: Clock = request.app.state.clock
    if match.needs_touch(clock.now()):
        _touch(database, match.key_id, clock)
    keys: KeyCache = request.app.state.key_cache
    keys.put(key, match.principal)
    return match.principal


async def key_principal(request: Request, key: str) -> Principal | None:
    """The principal of an API key (None: unknown or revoked), from the cache when fresh."""
    keys: KeyCache = request.app.state.key_cache
    return keys.get(key) or await run_in_threadpool(_check_key, request, key)


def _identify(request: Request) -> Caller:
    """Look the caller up in the database (blocking: run in a worker thread)."""
    key = _api_key(request)
    if key is not None:
        principal = _check_key(request, key)
        if principal is None:
            raise NotAuthenticated("Invalid or revoked API key.")
        return Caller(principal, None)
    data = session_data(request)
    if data is None:
        return Caller(ANONYMOUS, None)
    database: Database = request.app.state.database
    with database.read() as session:
        principal = load_principal(session, data.user_id, data.version)
    return Caller(principal, data) if principal else Caller(ANONYMOUS, None)


def _touch(database: Database, key_id: uuid.UUID, clock: Clock) -> None:
    """Note the key's use if the writer is free right now; never wait, never fail the request.

    Waiting is no option: this request's own write session may hold the writer
    already. A skipped note is made by a later call of the key.
    """
    try:
        with database.try_write() as session:
            if session is not None:
                touch_api_key(session, key_id, clock)
    except SQLAlchemyError:
        log.warning("api_key_touch_failed", key_id=str(key_id), exc_info=True)


async def identify_caller(request: Request) -> Caller:
    """The caller of this request, identified once and kept on `request.state`."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is None:
        key = _api_key(request)
        known = request.app.state.key_cache.get(key) if key is not None else None
        cached = Caller(known, None) if known else await run_in_threadpool(_identify, request)
        request.state.caller = cached
    return cached


async def _check_csrf(request: Request, data: SessionData) -> None:
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(_FORMS):
        field = (await request.form()).get(CSRF_FIELD)
        submitted = field if isinstance(field, str) else None
    if submitted is None or not hmac.compare_digest(submitted, data.csrf):
        raise Forbidden("Missing or wrong CSRF token.")


G = TypeVar("G", bound=Callable[..., object])


def guard(dependency: G) -> G:
    """Mark a dependency as deciding access, as the test over every route expects one to."""
    dependency.dothi_guard = True  # type: ignore[attr-defined]
    return dependency


def is_guard(dependency: object) -> bool:
    return getattr(dependency, "dothi_guard", False) is True


def require(permission: str | None = None) -> params.Depends:
    """A dependency giving the caller's `Principal` if it may use `permission`.

    `require()` asks only for a login. Anonymous callers get 401 unless the
    permission is public; logged-in callers whose role lacks it get 403.
    Use as `actor: Annotated[Principal, require("users:read")]`.
    """
    if permission is not None:
        check_permission(permission)

    async def dependency(request: Request) -> Principal:
        found = await identify_caller(request)
        if found.session is not None:
            await _check_csrf(request, found.session)
        if permission is None:
            if not found.principal.is_authenticated:
                raise NotAuthenticated("Please log in.")
        else:
            found.principal.require(permission)
        return found.principal

    return params.Depends(guard(dependency))


@guard
async def read_context_data(request: Request) -> Principal:
    """The reader of sensor data: the public when the deployment publishes it, else the caller.

    Published data is the same for everyone (no scope to apply); otherwise the
    caller needs `telemetry:read` and sees their scope.
    """
    settings: Settings = request.app.state.settings
    if settings.public_context_data:
        return ANONYMOUS
    found = await identify_caller(request)
    found.principal.require("telemetry:read")
    return found.principal


ContextReader = Annotated[Principal, Depends(read_context_data)]


def csrf_token(request: Request) -> str | None:
    """The CSRF token forms of this session must post (for templates of routes that `require`)."""
    caller: Caller | None = getattr(request.state, "caller", None)
    return caller.session.csrf if caller is not None and caller.session is not None else None


def client_address(request: Request, trusted_proxies: Sequence[str]) -> str:
    """The address of the client: the peer, unless the peer is a trusted proxy.

    Behind trusted proxies the client is the last address of `X-Forwarded-For`
    that is not one of them (what came before it, the client could have forged).
    """
    peer = request.client.host if request.client else ""
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
    hops = [hop.strip() for hop in forwarded if hop.strip()] + [peer]
    networks = _networks(tuple(trusted_proxies))
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0]


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@cache
def _networks(proxies: tuple[str, ...]) -> Networks:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
