"""The demo district ready for reports: its bodies, the catalogue and routing, people, a key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.apikeys import create_api_key
from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.models import OrgUnit, User
from dothi.accounts.permissions import SYSTEM, Principal, Role
from dothi.accounts.schemas import ApiKeyCreate
from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.places.models import AdminUnit
from dothi.reports import service
from dothi.reports.bundled import load_bundled
from dothi.reports.policy import ReportPolicy
from dothi.reports.schemas import Receipt, ReportIn
from tests.accounts.helpers import add_user, principal

START = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)  # a Thursday, 08:30 in Hồ Chí Minh City
PHONE = "0987654321"
EMAIL = "nguoi.dan@example.vn"
POLICY = ReportPolicy.from_settings(Settings(database_url="sqlite:///unused"))


@dataclass(frozen=True)
class District:
    """Where things are in the demo district, and who works there."""

    points: dict[str, tuple[float, float]]  # ward name -> (lon, lat) inside it
    wards: dict[str, uuid.UUID]
    units: dict[str, uuid.UUID]  # org unit code -> id
    key: str  # an integration API key with reports:submit

    def report(self, category: str, ward: str = "Phường 9", **fields: object) -> ReportIn:
        """A report of `category` at a point of `ward`, with the reporter's contact."""
        lon, lat = self.points[ward]
        data = {"category": category, "description": "Vỉa hè bị lấn chiếm", "lon": lon, "lat": lat}
        return ReportIn.model_validate(
            {"reporter_phone": PHONE, "reporter_email": EMAIL, **data, **fields}
        )


USERS = {
    # username: (role, org unit code, scope: ward name or None for the district)
    "officer.p9": (Role.OFFICER, "ubnd-p9", "Phường 9"),
    "officer.p7": (Role.OFFICER, "ubnd-p7", "Phường 7"),
    "officer.drain": (Role.OFFICER, "cty-thoatnuoc", None),
    "officer.urban": (Role.OFFICER, "phong-qldt", None),
    "operator": (Role.OPERATOR, "ioc-q", None),
    "manager": (Role.ADMIN, None, None),
    "portal": (Role.INTEGRATION, None, None),
}


def build_district(db: Database, clock: FixedClock) -> District:
    """Org units of the bundled directory, the report catalogue and routing, users, a key."""
    with db.write() as session:
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock)
        load_bundled(session, clock)
        places = {u.name: u for u in session.scalars(select(AdminUnit))}
        district = places["Quận Phú Nhuận"]
        wards = {name: u.id for name, u in places.items() if u.level == "ward"}
        points = {name: _inside(u.boundary) for name, u in places.items() if u.level == "ward"}
        units = dict(session.execute(select(OrgUnit.code, OrgUnit.id)).all())
        for username, (role, unit, ward) in USERS.items():
            scope = wards[ward] if ward else district.id
            add_user(session, username, role, units.get(unit or ""), [scope], full_name="Lê Văn C")
        portal = principal_id(session, "portal")
        key = create_api_key(session, SYSTEM, portal, ApiKeyCreate(name="cổng 1022"), clock)
    return District(points, wards, units, key.secret)


def _inside(boundary: dict[str, Any] | None) -> tuple[float, float]:
    point = shape(boundary).representative_point()
    return float(point.x), float(point.y)


def principal_id(session: Session, username: str) -> uuid.UUID:
    found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def actor(db: Database, username: str) -> Principal:
    """The principal a user of the district acts as."""
    return principal(db, username)


def submit(
    db: Database,
    district: District,
    clock: FixedClock,
    category: str = "trat-tu-do-thi",
    **fields: str,
) -> Receipt:
    """A report sent from the citizen pages, in Phường 9 unless `ward` says otherwise."""
    with db.write() as session:
        data = district.report(category, **fields)
        return service.submit_report(session, POLICY, clock, data, submitted_by="web", source="web")
