"""User accounts: create, read, list, change; set-up helpers for the CLI.

A user's place is their organisational unit's admin unit (none: the root of
the tree). Personal fields are masked everywhere except in `get_user` for a
principal with `users:read_personal`, and each such read is audited. Lists are
always masked: nobody needs a page of phone numbers (data minimisation).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.models import OrgUnit, User, UserScope
from dothi.accounts.orgunits import Place, org_unit_places
from dothi.accounts.paging import paginate
from dothi.accounts.passwords import hash_password
from dothi.accounts.permissions import SYSTEM, Principal, Role, permissions_of
from dothi.accounts.privacy import personal_values
from dothi.accounts.schemas import Page, UserCreate, UserOut, UserQuery, UserUpdate
from dothi.accounts.units import in_scope, within_unit
from dothi.core.clock import Clock, SystemClock
from dothi.core.ids import random_secret
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dothi.places.service import root_unit_ids, unit_ids_by_code, unit_paths


@dataclass(frozen=True, slots=True)
class PersonalRead:
    """An unmasked read of a user's personal fields: whoever shows it records it first."""

    actor: str
    user_id: uuid.UUID
    place: Place | None
    fields: tuple[str, ...]

    def record(self, session: Session, clock: Clock) -> None:
        """Write the `user.read_personal` entry (names of the fields, never their values)."""
        action, detail = "user.read_personal", {"fields": list(self.fields)}
        record_user(session, clock, self.actor, action, self.user_id, [self.place], detail)


def create_user(session: Session, actor: Principal, data: UserCreate, clock: Clock) -> UserOut:
    """Create a user in the actor's scope with at most the actor's permissions."""
    actor.require("users:write")
    _check_grant(actor, data.role)
    place = _org_unit_place(session, actor, data.org_unit_id)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict("This username is taken.")
    user = User(
        **data.model_dump(exclude={"password", "scope_unit_ids"}),
        password_hash=hash_password(data.password.get_secret_value()),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    _set_scope(session, actor, user, data.scope_unit_ids)
    detail = {"username": user.username, "role": user.role.value}
    record_user(session, clock, actor.username, "user.create", user.id, [place], detail)
    return _outs(session, [user], reveal=False)[0]


def get_user(
    session: Session, actor: Principal, user_id: uuid.UUID
) -> tuple[UserOut, PersonalRead | None]:
    """One user, read only; unmasked for `users:read_personal`, with the read to record then.

    Users always see their own record unmasked: reading one's own data is no disclosure.
    """
    if actor.user_id == user_id:
        return _outs(session, [_get(session, user_id)], reveal=True)[0], None
    actor.require("users:read")
    user, place = visible_user(session, actor, user_id)
    if not actor.can("users:read_personal"):
        return _outs(session, [user], reveal=False)[0], None
    shown = tuple(sorted(k for k, v in personal_values(user, reveal=True).items() if v is not None))
    disclosure = PersonalRead(actor.username, user.id, place, shown)
    return _outs(session, [user], reveal=True)[0], disclosure


def list_users(session: Session, actor: Principal, query: UserQuery) -> Page[UserOut]:
    """Users in the actor's scope, by username, personal fields masked."""
    actor.require("users:read")
    where = [in_scope(OrgUnit.admin_unit_id, actor)]
    if query.role is not None:
        where.append(User.role == query.role)
    if query.org_unit_id is not None:
        where.append(User.org_unit_id == query.org_unit_id)
    if query.active is not None:
        where.append(User.active == query.active)
    if query.ward is not None:
        where.append(within_unit(session, OrgUnit.admin_unit_id, query.ward))
    stmt = (
        select(User)
        .outerjoin(OrgUnit, User.org_unit_id == OrgUnit.id)
        .where(*where)
        .order_by(User.username)
    )
    return paginate(session, stmt, query, lambda users: _outs(session, users, reveal=False))


def update_user(
    session: Session, actor: Principal, user_id: uuid.UUID, data: UserUpdate, clock: Clock
) -> UserOut:
    """Change the fields given (an explicit null clears a personal field or the org unit).

    A user who moves is audited under the old and the new place; (de)activation is
    audited as such, and asking for the state a user is already in changes nothing.
    """
    actor.require("users:write")
    user, place = managed_user(session, actor, user_id)
    changed = set(data.model_fields_set)
    if data.role is not None:
        _check_grant(actor, data.role)
        user.role = data.role
    for field in {"full_name", "email", "phone"} & changed:
        setattr(user, field, getattr(data, field))
    places = [place]
    if "org_unit_id" in changed:
        places.append(_org_unit_place(session, actor, data.org_unit_id))
        user.org_unit_id = data.org_unit_id
    if data.scope_unit_ids is not None:
        _set_scope(session, actor, user, data.scope_unit_ids)
    action = "user.update"
    if data.active is not None and data.active != user.active:
        user.active = data.active
        user.session_version += 1
        action = "user.reactivate" if data.active else "user.deactivate"
    else:
        changed.discard("active")
    session.flush()
    if changed:
        detail = {"changed": sorted(changed)}
        record_user(session, clock, actor.username, action, user.id, places, detail)
    return _outs(session, [user], reveal=False)[0]


def set_password(
    session: Session, actor: Principal, user_id: uuid.UUID, password: str, clock: Clock
) -> None:
    """Give a user a new password; their sessions end."""
    actor.require("users:write")
    user, place = managed_user(session, actor, user_id)
    _change_password(user, password)
    record_user(session, clock, actor.username, "user.set_password", user.id, [place], {})


def ensure_admin(session: Session, clock: Clock | None = None) -> str | None:
    """Create the user `admin` over every tree unless an administrator exists.

    Returns the random password (to be printed once), or None when nothing was created.
    """
    clock = clock or SystemClock()
    exists = select(User.id).where((User.username == "admin") | (User.role == Role.ADMIN))
    if session.scalar(exists.limit(1)) is not None:
        return None
    password = random_secret(12)
    roots = root_unit_ids(session, clock.now().date())
    data = UserCreate.model_validate(
        {"username": "admin", "password": password, "role": Role.ADMIN, "scope_unit_ids": roots}
    )
    create_user(session, SYSTEM, data, clock)
    return password


def reset_password(session: Session, username: str, clock: Clock | None = None) -> str:
    """Give `username` a new random password (returned once); their sessions end."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No such user.")
    password = random_secret(12)
    _change_password(user, password)
    place = user_place(session, user)
    clock = clock or SystemClock()
    record_user(session, clock, SYSTEM.username, "user.reset_password", user.id, [place], {})
    return password


def add_user_cli(
    session: Session,
    username: str,
    role: str,
    scope_codes: Sequence[str],
    org_unit_code: str | None,
    full_name: str | None,
    clock: Clock | None = None,
) -> str:
    """Create a user from official codes (CLI); returns the generated password."""
    clock = clock or SystemClock()
    scopes = unit_ids_by_code(session, scope_codes, clock.now().date())
    if missing := sorted(set(scope_codes) - scopes.keys()):
        raise InvalidInput(f"Unknown administrative unit codes: {', '.join(missing)}")
    org_unit_id = None
    if org_unit_code is not None:
        org_unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == org_unit_code))
        if org_unit_id is None:
            raise InvalidInput(f"Unknown organisational unit code: {org_unit_code}")
    password = random_secret(12)
    data = UserCreate.model_validate(
        {
            "username": username,
            "password": password,
            "role": role,
            "full_name": full_name,
            "org_unit_id": org_unit_id,
            "scope_unit_ids": list(scopes.values()),
        }
    )
    create_user(session, SYSTEM, data, clock)
    return password


def user_place(session: Session, user: User) -> Place | None:
    """Where a user works: their organisational unit's admin unit (None: the whole tree)."""
    if user.org_unit_id is None:
        return None
    return org_unit_places(session, [user.org_unit_id])[user.org_unit_id]


def _get(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def visible_user(
    session: Session, actor: Principal, user_id: uuid.UUID
) -> tuple[User, Place | None]:
    """A user and their place; NotFound, or Forbidden when outside the actor's scope."""
    user = _get(session, user_id)
    place = user_place(session, user)
    actor.require_sight(place.path if place else None)
    return user, place


def managed_user(
    session: Session, actor: Principal, user_id: uuid.UUID
) -> tuple[User, Place | None]:
    """A user the actor may change: in sight, with no more rights and no wider scope.

    Every subtree the user sees must lie inside one the actor sees: otherwise a
    ward leader could take over (e.g. set the password of) a district-wide account.
    """
    user, place = visible_user(session, actor, user_id)
    _check_grant(actor, user.role)
    scope = session.scalars(select(UserScope.admin_unit_id).where(UserScope.user_id == user.id))
    if not all(actor.sees(path) for path in unit_paths(session, set(scope)).values()):
        raise Forbidden("This user sees more than you do: you cannot manage them.")
    return user, place


def _check_grant(actor: Principal, role: Role) -> None:
    """Nobody hands out (or manages) more power than they hold."""
    if not permissions_of(role) <= permissions_of(actor.role):
        raise Forbidden("You cannot manage users with more rights than your own.")


def _org_unit_place(
    session: Session, actor: Principal, org_unit_id: uuid.UUID | None
) -> Place | None:
    """The place a user of `org_unit_id` would have; it must be active and in sight."""
    if org_unit_id is None:
        actor.require_sight(None)
        return None
    active = session.scalar(select(OrgUnit.active).where(OrgUnit.id == org_unit_id))
    if not active:
        raise InvalidInput("No such active organisational unit.")
    place = org_unit_places(session, [org_unit_id])[org_unit_id]
    actor.require_sight(place.path)
    return place


def _set_scope(
    session: Session, actor: Principal, user: User, unit_ids: Sequence[uuid.UUID]
) -> None:
    """Replace the user's scope; it is made of existing units the actor sees."""
    wanted = set(unit_ids)
    paths = unit_paths(session, wanted)
    if len(paths) != len(wanted):
        raise InvalidInput("No such administrative unit.")
    for path in paths.values():
        actor.require_sight(path)
    session.execute(delete(UserScope).where(UserScope.user_id == user.id))
    session.add_all(UserScope(user_id=user.id, admin_unit_id=unit_id) for unit_id in wanted)


def _change_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1


def record_user(
    session: Session,
    clock: Clock,
    actor: str,
    action: str,
    user_id: uuid.UUID | None,
    places: Iterable[Place | None],
    detail: dict[str, Any],
) -> None:
    """Audit an event about a user (None: an unknown one) under each place it concerns."""
    audit.record_in(
        session,
        clock,
        actor,
        action,
        [place.admin_unit_id if place else None for place in places],
        object_type="user",
        object_id=user_id,
        detail=detail,
    )


def _outs(session: Session, users: Sequence[User], *, reveal: bool) -> list[UserOut]:
    scopes: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    rows = session.execute(
        select(UserScope.user_id, UserScope.admin_unit_id)
        .where(UserScope.user_id.in_([user.id for user in users]))
        .order_by(UserScope.admin_unit_id)
    )
    for user_id, unit_id in rows:
        scopes[user_id].append(unit_id)
    return [
        UserOut(
            id=user.id,
            username=user.username,
            role=user.role,
            masked=not reveal,
            org_unit_id=user.org_unit_id,
            scope_unit_ids=scopes[user.id],
            active=user.active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            **personal_values(user, reveal=reveal),
        )
        for user in users
    ]
