"""Tables of accounts: organisational units, users and their scopes, API keys, the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dothi.accounts.permissions import Role
from dothi.accounts.privacy import personal
from dothi.core.ids import new_id
from dothi.db.base import Base, JSONDoc


class OrgUnitKind(StrEnum):
    """What kind of body an organisational unit is."""

    DEPARTMENT = "department"
    WARD_COMMITTEE = "ward_committee"
    POLICE = "police"
    UTILITY = "utility"
    OTHER = "other"


def _str_enum(enum: type[StrEnum]) -> Enum:
    """A portable VARCHAR column holding the enum's values (no native PostgreSQL type)."""
    return Enum(enum, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class OrgUnit(Base):
    """A body that work is routed to: a department, a ward people's committee, police…"""

    __tablename__ = "org_units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgUnitKind] = mapped_column(_str_enum(OrgUnitKind))
    admin_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("admin_units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)


class User(Base):
    """A person or a machine account that logs in or calls the API."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("username = lower(username)", name="username_lower"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200), info=personal("name"))
    email: Mapped[str | None] = mapped_column(String(254), info=personal("email"))
    phone: Mapped[str | None] = mapped_column(String(20), info=personal("phone"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_str_enum(Role))
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Part of every session cookie: bumping it logs the user out everywhere.
    session_version: Mapped[int] = mapped_column(default=1)


class UserScope(Base):
    """One admin-unit subtree a user sees."""

    __tablename__ = "user_scopes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    admin_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("admin_units.id"), primary_key=True)


class ApiKey(Base):
    """A secret a machine sends instead of a password; it acts as its user."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8))
    # SHA-256 of the secret: the secret has 256 random bits, so a slow hash adds nothing.
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key as an MQTT password, hashed the way Mosquitto's password_file wants it.
    mqtt_hash: Mapped[str | None] = mapped_column(String(200))
    # Integration limits: entity types the key may write (None: any) and whether it
    # may create entities it has not seen; its wards are its user's scope.
    entity_types: Mapped[list[str] | None] = mapped_column(JSONDoc)
    provision: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One link of the hash chain; `id` is its position, assigned without gaps."""

    __tablename__ = "audit_entries"

    # 64 bits: the chain grows for as long as the deployment lives.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # No foreign key: the log must outlive what it talks about.
    admin_unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
