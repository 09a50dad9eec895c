"""Set-up shared by tests of several packages."""

from __future__ import annotations

from sqlalchemy import select

from dothi.accounts.apikeys import create_api_key
from dothi.accounts.models import User
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import ApiKeyCreate
from dothi.accounts.service import ensure_admin
from dothi.core.clock import SystemClock
from dothi.db.engine import Database


def admin_api_key(database: Database) -> dict[str, str]:
    """Create the admin (if missing) and an API key of theirs; return the request header."""
    clock = SystemClock()
    with database.write() as session:
        ensure_admin(session, clock)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        key = create_api_key(session, SYSTEM, admin.id, ApiKeyCreate(name="tests"), clock)
    return {"X-API-Key": key.secret}
