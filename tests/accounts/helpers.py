"""The people of the demo district: a ward committee per ward, an officer in each, an operator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.identity import principal_for
from dothi.accounts.models import OrgUnitKind, User, UserScope
from dothi.accounts.orgunits import create_org_unit
from dothi.accounts.passwords import hash_password
from dothi.accounts.permissions import SYSTEM, Principal, Role
from dothi.accounts.schemas import OrgUnitCreate
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.places.models import AdminUnit

PASSWORD = "mật khẩu đủ dài 2026"
START = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)
PHONE = "0912345678"


@cache
def password_hash() -> str:
    """One Argon2 hash shared by the test users (each hash costs ~0.1 s)."""
    return hash_password(PASSWORD)


@dataclass(frozen=True)
class Town:
    """Ids of the demo district's places, organisational units and users."""

    district: uuid.UUID
    wards: dict[str, uuid.UUID]
    committees: dict[str, uuid.UUID]
    users: dict[str, uuid.UUID]


def add_user(
    session: Session,
    username: str,
    role: Role,
    org_unit_id: uuid.UUID | None,
    scope: list[uuid.UUID],
    *,
    full_name: str | None = None,
) -> User:
    """A user row with the shared test password (set-up data, not the code under test)."""
    user = User(
        username=username,
        role=role,
        org_unit_id=org_unit_id,
        full_name=full_name,
        phone=PHONE,
        email=f"{username}@phunhuan.example.vn",
        password_hash=password_hash(),
        created_at=START,
    )
    session.add(user)
    session.flush()
    session.add_all(UserScope(user_id=user.id, admin_unit_id=unit) for unit in scope)
    session.flush()
    return user


def build_town(db: Database, clock: FixedClock) -> Town:
    """Org units and users for the 15 wards of the demo district (loaded already)."""
    with db.write() as session:
        units = {row.name: row for row in session.scalars(select(AdminUnit))}
        city, district = units["Thành phố Hồ Chí Minh"], units["Quận Phú Nhuận"]
        wards = {name: unit.id for name, unit in units.items() if unit.level == "ward"}
        committees = {
            name: create_org_unit(
                session,
                SYSTEM,
                OrgUnitCreate(
                    code=f"UBND-{name.split()[-1]}",
                    name=f"UBND {name}",
                    kind=OrgUnitKind.WARD_COMMITTEE,
                    admin_unit_id=ward,
                ),
                clock,
            ).id
            for name, ward in wards.items()
        }
        ioc = create_org_unit(
            session,
            SYSTEM,
            OrgUnitCreate(
                code="IOC",
                name="Trung tâm IOC",
                kind=OrgUnitKind.DEPARTMENT,
                admin_unit_id=district.id,
            ),
            clock,
        )
        users = {
            "admin": add_user(session, "admin", Role.ADMIN, None, [city.id]).id,
            "operator": add_user(
                session, "operator", Role.OPERATOR, ioc.id, [district.id], full_name="Trần Thị Bình"
            ).id,
        }
        users["leader.p2"] = add_user(
            session, "leader.p2", Role.LEADER, committees["Phường 2"], [wards["Phường 2"]]
        ).id
        for name, ward in wards.items():
            username = f"officer.p{name.split()[-1]}"
            users[username] = add_user(
                session, username, Role.OFFICER, committees[name], [ward], full_name="Nguyễn Văn An"
            ).id
    return Town(district.id, wards, committees, users)


def principal(db: Database, username: str) -> Principal:
    """The principal a stored user acts as."""
    with db.read() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return principal_for(session, user)
