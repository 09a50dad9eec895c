"""API keys: secrets machines send instead of a password, each acting as one user.

A key is 256 random bits, shown once; the database keeps its SHA-256. A slow
password hash protects guessable secrets; a 256-bit one cannot be guessed, so
a fast hash is as safe and lets every request look the key up by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.identity import principal_for
from dothi.accounts.models import ApiKey, User
from dothi.accounts.orgunits import Place
from dothi.accounts.permissions import SYSTEM, Principal, Role, permissions_of
from dothi.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, UserCreate
from dothi.accounts.service import create_user, managed_user, visible_user
from dothi.core.clock import Clock, SystemClock
from dothi.core.ids import random_secret
from dothi.errors import NotFound
from dothi.places.service import root_unit_ids

MOSQUITTO_ITERATIONS = 101  # Mosquitto's own default; the secret has 256 random bits
TOUCH_EVERY = timedelta(minutes=5)
"""`last_used_at` is refreshed at most this often: a busy sensor must not write on every call."""


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """A valid key and the principal it acts as."""

    key_id: uuid.UUID
    principal: Principal
    last_used_at: datetime | None

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= TOUCH_EVERY


def digest(secret: str) -> str:
    """What is stored of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def mosquitto_hash(secret: str) -> str:
    """The secret hashed as Mosquitto's password_file stores it (`$7$`: PBKDF2-SHA512).

    Kept so that `dothi mqtt sync` can let devices log in to the broker with
    their key as password, though dothi never stores the secret itself.
    """
    salt = secrets.token_bytes(12)
    derived = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, MOSQUITTO_ITERATIONS)
    encode = base64.b64encode
    return f"$7${MOSQUITTO_ITERATIONS}${encode(salt).decode()}${encode(derived).decode()}"


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """A live key as an MQTT broker login: the key's prefix is the username."""

    prefix: str
    mqtt_hash: str
    principal: Principal


def broker_logins(session: Session, actor: Principal, permission: str) -> list[BrokerLogin]:
    """Live keys (not revoked, user active) whose user's role grants `permission`, oldest first."""
    actor.require("apikeys:write")
    rows = session.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.revoked_at.is_(None), User.active, ApiKey.mqtt_hash.is_not(None))
        .order_by(ApiKey.created_at, ApiKey.prefix)
    ).all()
    return [
        BrokerLogin(key.prefix, key.mqtt_hash, _acting_as(session, key, user))
        for key, user in rows
        if key.mqtt_hash is not None and permission in permissions_of(user.role)
    ]


def create_api_key(
    session: Session, actor: Principal, user_id: uuid.UUID, data: ApiKeyCreate, clock: Clock
) -> ApiKeyCreated:
    """A new key for a user in the actor's scope; the secret is in the answer and nowhere else."""
    actor.require("apikeys:write")
    user, place = managed_user(session, actor, user_id)
    secret = random_secret(32)
    key = ApiKey(
        user_id=user.id,
        name=data.name,
        prefix=secret[:8],
        hash=digest(secret),
        mqtt_hash=mosquitto_hash(secret),
        entity_types=sorted(set(data.entity_types)) if data.entity_types is not None else None,
        provision=data.provision,
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    _record(session, clock, actor, "apikey.create", key, user.username, place)
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), secret=secret)


def list_api_keys(session: Session, actor: Principal, user_id: uuid.UUID) -> list[ApiKeyOut]:
    """The keys of a user in the actor's scope, newest first."""
    actor.require("apikeys:write")
    visible_user(session, actor, user_id)
    keys = session.scalars(
        select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
    )
    return [ApiKeyOut.model_validate(key) for key in keys]


def revoke_api_key(
    session: Session, actor: Principal, user_id: uuid.UUID, key_id: uuid.UUID, clock: Clock
) -> ApiKeyOut:
    """Stop a key from working (it stays listed, with the time it was revoked)."""
    actor.require("apikeys:write")
    user, place = managed_user(session, actor, user_id)
    key = session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound("No such API key.")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.flush()
        _record(session, clock, actor, "apikey.revoke", key, user.username, place)
    return ApiKeyOut.model_validate(key)


def ensure_integration_key(
    session: Session, clock: Clock, username: str = "integration"
) -> str | None:
    """Create a machine user over every tree with an integration key that may create entities.

    Returns the key's secret (to be printed once), or None when the user exists already.
    """
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        return None
    roots = root_unit_ids(session, clock.now().date())
    data = UserCreate(
        username=username,
        password=SecretStr(random_secret(24)),  # never used: the machine logs in with its key
        role=Role.INTEGRATION,
        scope_unit_ids=roots,
    )
    user = create_user(session, SYSTEM, data, clock)
    key = ApiKeyCreate(name=f"{username} (demo)", provision=True)
    return create_api_key(session, SYSTEM, user.id, key, clock).secret


def add_api_key_cli(
    session: Session, username: str, data: ApiKeyCreate, clock: Clock | None = None
) -> str:
    """A new key for `username` (CLI, acting as the system); returns its secret."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No such user.")
    return create_api_key(session, SYSTEM, user.id, data, clock or SystemClock()).secret


def authenticate_api_key(session: Session, secret: str) -> KeyMatch | None:
    """The key with this secret if it is live and its user active, else None."""
    key = session.scalar(select(ApiKey).where(ApiKey.hash == digest(secret)))
    if key is None or key.revoked_at is not None:
        return None
    user = session.get(User, key.user_id)
    if user is None or not user.active:
        return None
    return KeyMatch(key.id, _acting_as(session, key, user), key.last_used_at)


def _acting_as(session: Session, key: ApiKey, user: User) -> Principal:
    """The principal a key acts as: its user, within the key's own limits."""
    limits = frozenset(key.entity_types) if key.entity_types is not None else None
    return replace(principal_for(session, user), entity_types=limits, provision=key.provision)


def touch_api_key(session: Session, key_id: uuid.UUID, clock: Clock) -> None:
    """Note that a key was just used, unless that was noted less than `TOUCH_EVERY` ago.

    One conditional UPDATE: concurrent calls of a key write at most once per period.
    """
    now = clock.now()
    stale = or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - TOUCH_EVERY)
    session.execute(
        update(ApiKey).where(ApiKey.id == key_id, stale).values(last_used_at=now),
        execution_options={"synchronize_session": False},
    )


def _record(
    session: Session,
    clock: Clock,
    actor: Principal,
    action: str,
    key: ApiKey,
    username: str,
    place: Place | None,
) -> None:
    """Audit a change of a key, filed under its user's place (never the secret)."""
    audit.record(
        session,
        clock,
        actor.username,
        action,
        object_type="api_key",
        object_id=key.id,
        admin_unit_id=place.admin_unit_id if place else None,
        detail={"user": username, "prefix": key.prefix},
    )
