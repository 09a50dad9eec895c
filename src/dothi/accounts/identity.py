"""Who is calling: password logins and the principal a stored user acts as.

A login is two steps, so that the slow Argon2 check never holds the writer:
`check_login` reads and checks (any read session, in a worker thread), then
`record_login` writes the outcome in a short unit of work of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.models import User, UserScope
from dothi.accounts.passwords import check_password
from dothi.accounts.permissions import Principal
from dothi.accounts.service import record_user, user_place
from dothi.core.clock import Clock
from dothi.places.service import unit_paths


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """What a password check found; `failure` is None when the password was right."""

    user_id: uuid.UUID | None
    checked_hash: str | None
    failure: str | None
    new_hash: str | None = None


def check_login(session: Session, username: str, password: str) -> LoginCheck:
    """Check a password against the stored user, writing nothing (slow: Argon2).

    Unknown and inactive users cost the same hash check as real ones.
    """
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    usable = user is not None and user.active
    stored = user.password_hash if user is not None and usable else None
    check = check_password(stored, password)
    if user is None:
        return LoginCheck(None, None, "unknown user")
    if not check.ok:
        return LoginCheck(user.id, stored, "wrong password" if usable else "inactive")
    return LoginCheck(user.id, stored, None, check.new_hash)


def record_login(session: Session, check: LoginCheck, clock: Clock) -> User | None:
    """Write down a checked login; the user when it succeeded, else None.

    A success counts only if the account is still active with the hash that was
    checked. A failure names the account only when it exists: a mistyped
    password in the username field must not end up in the log.
    """
    user = session.get(User, check.user_id) if check.user_id is not None else None
    unchanged = user is not None and user.active and user.password_hash == check.checked_hash
    if user is None or not unchanged or check.failure is not None:
        reason = check.failure or "changed during login"
        _record(session, clock, user, "login.failure", {"reason": reason})
        return None
    if check.new_hash:
        user.password_hash = check.new_hash
    user.last_login_at = clock.now()
    _record(session, clock, user, "login.success", {})
    return user


def authenticate(session: Session, username: str, password: str, clock: Clock) -> User | None:
    """Both steps in one session (the CLI, scripts); routes split them."""
    return record_login(session, check_login(session, username, password), clock)


def principal_for(session: Session, user: User) -> Principal:
    """The principal a user acts as: their role, scope paths and organisational unit."""
    unit_ids = session.scalars(select(UserScope.admin_unit_id).where(UserScope.user_id == user.id))
    paths = tuple(sorted(unit_paths(session, set(unit_ids)).values()))
    return Principal(user.id, user.username, user.role, paths, user.org_unit_id)


def principal_by_username(session: Session, username: str) -> Principal | None:
    """The principal of an active user, by username (None: no such active user)."""
    user = session.scalars(select(User).where(User.username == username)).first()
    return principal_for(session, user) if user is not None and user.active else None


def load_principal(session: Session, user_id: uuid.UUID, session_version: int) -> Principal | None:
    """The principal of a session cookie, unless the user is gone, inactive or logged out."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    return principal_for(session, user)


def logout(session: Session, principal: Principal, clock: Clock) -> None:
    """End every session of the principal's user: their cookies stop working."""
    user = session.get(User, principal.user_id) if principal.user_id else None
    if user is None:
        return
    user.session_version += 1
    _record(session, clock, user, "logout", {})


def _record(
    session: Session, clock: Clock, user: User | None, action: str, detail: dict[str, str]
) -> None:
    """Audit a login or logout as done by the user it concerns."""
    place = user_place(session, user) if user is not None else None
    actor = user.username if user is not None else "anonymous"
    record_user(session, clock, actor, action, user.id if user else None, [place], detail)
