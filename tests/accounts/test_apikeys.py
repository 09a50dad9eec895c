"""API keys: shown once, stored hashed, act as their user, stop when revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dothi.accounts import apikeys, service
from dothi.accounts.models import ApiKey, AuditEntry
from dothi.accounts.schemas import ApiKeyCreate, UserUpdate
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, NotFound
from tests.accounts.helpers import Town, principal


def _create(db: Database, town: Town, clock: FixedClock, user: str = "operator") -> str:
    admin = principal(db, "admin")
    with db.write() as session:
        created = apikeys.create_api_key(
            session, admin, town.users[user], ApiKeyCreate(name="trạm quan trắc"), clock
        )
    assert created.prefix == created.secret[:8] and len(created.secret) >= 40
    return created.secret


def test_a_key_acts_as_its_user(demo_db: Database, town: Town, clock: FixedClock) -> None:
    secret = _create(demo_db, town, clock)
    with demo_db.read() as session:
        match = apikeys.authenticate_api_key(session, secret)
        stored = session.scalars(select(ApiKey.hash)).one()
        detail = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "apikey.create")
        ).one()
    assert match is not None
    assert match.principal.username == "operator" and match.principal.scope_paths
    assert stored == apikeys.digest(secret) and secret not in stored
    assert secret not in str(detail) and detail["prefix"] == secret[:8]


def test_unknown_and_revoked_keys_fail(demo_db: Database, town: Town, clock: FixedClock) -> None:
    secret = _create(demo_db, town, clock)
    admin = principal(demo_db, "admin")
    with demo_db.read() as session:
        assert apikeys.authenticate_api_key(session, secret + "x") is None
        [key] = apikeys.list_api_keys(session, admin, town.users["operator"])
    with demo_db.write() as session:
        revoked = apikeys.revoke_api_key(session, admin, town.users["operator"], key.id, clock)
        with pytest.raises(NotFound):
            apikeys.revoke_api_key(session, admin, town.users["officer.p2"], key.id, clock)
    assert revoked.revoked_at == clock.now()
    with demo_db.read() as session:
        assert apikeys.authenticate_api_key(session, secret) is None


def test_keys_of_deactivated_users_fail(demo_db: Database, town: Town, clock: FixedClock) -> None:
    secret = _create(demo_db, town, clock)
    admin = principal(demo_db, "admin")
    with demo_db.write() as session:
        service.update_user(session, admin, town.users["operator"], UserUpdate(active=False), clock)
    with demo_db.read() as session:
        assert apikeys.authenticate_api_key(session, secret) is None


def test_only_key_writers_manage_keys(demo_db: Database, town: Town, clock: FixedClock) -> None:
    leader = principal(demo_db, "leader.p2")
    with demo_db.write() as session, pytest.raises(Forbidden):
        apikeys.create_api_key(
            session, leader, town.users["officer.p2"], ApiKeyCreate(name="x"), clock
        )


def test_use_is_noted_at_most_every_few_minutes(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    secret = _create(demo_db, town, clock)
    with demo_db.read() as session:
        match = apikeys.authenticate_api_key(session, secret)
    assert match is not None and match.needs_touch(clock.now())
    with demo_db.write() as session:
        apikeys.touch_api_key(session, match.key_id, clock)
    with demo_db.read() as session:
        touched = apikeys.authenticate_api_key(session, secret)
    assert touched is not None and touched.last_used_at == clock.now()
    assert not touched.needs_touch(clock.now() + timedelta(minutes=1))
    assert touched.needs_touch(clock.now() + apikeys.TOUCH_EVERY)


def test_a_touch_writes_at_most_once_per_period(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    secret = _create(demo_db, town, clock)
    with demo_db.read() as session:
        match = apikeys.authenticate_api_key(session, secret)
    assert match is not None
    first = clock.now()
    for minutes in (0, 1, 6):
        clock.advance(timedelta(minutes=minutes))
        with demo_db.write() as session:
            apikeys.touch_api_key(session, match.key_id, clock)
        with demo_db.read() as session:
            key = session.get(ApiKey, match.key_id)
            assert key is not None
            expected = first if minutes < 6 else clock.now()
            assert key.last_used_at == expected
