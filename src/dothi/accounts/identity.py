"""Who is calling: password logins and the principal a stored user acts as."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.models import User, UserScope
from dothi.accounts.passwords import check_password
from dothi.accounts.permissions import Principal
from dothi.accounts.service import user_place
from dothi.accounts.units import unit_paths
from dothi.core.clock import Clock


def authenticate(session: Session, username: str, password: str, clock: Clock) -> User | None:
    """The active user with this password, or None; both outcomes are audited.

    Unknown and inactive users cost the same hash check as real ones. A failure
    names the account only when it exists: a mistyped password in the username
    field must not end up in the log.
    """
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    usable = user is not None and user.active
    check = check_password(user.password_hash if user is not None and usable else None, password)
    if user is None or not check.ok:
        reason = "unknown user" if user is None else "inactive" if not usable else "wrong password"
        _record(session, clock, user, "login.failure", {"reason": reason})
        return None
    if check.new_hash:
        user.password_hash = check.new_hash
    user.last_login_at = clock.now()
    _record(session, clock, user, "login.success", {})
    return user


def principal_for(session: Session, user: User) -> Principal:
    """The principal a user acts as: their role, scope paths and organisational unit."""
    unit_ids = session.scalars(select(UserScope.admin_unit_id).where(UserScope.user_id == user.id))
    paths = tuple(sorted(unit_paths(session, set(unit_ids)).values()))
    return Principal(user.id, user.username, user.role, paths, user.org_unit_id)


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
    place = user_place(session, user) if user is not None else None
    audit.record(
        session,
        clock,
        user.username if user else "anonymous",
        action,
        object_type="user",
        object_id=user.id if user else None,
        admin_unit_id=place.admin_unit_id if place else None,
        detail=detail,
    )
