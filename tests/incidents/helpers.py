"""The demo district ready for incidents: its bodies and people, the default alarm rules,
a flood sensor in Phường 7 reporting through the real pipeline, and who acts as whom."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from dothi.accounts.models import User, UserScope
from dothi.accounts.permissions import SYSTEM, Principal, Role
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import Policy
from dothi.alarms.models import Alarm
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from tests.accounts.helpers import add_user, principal
from tests.reports.helpers import District, build_district
from tests.telemetry.helpers import PROVISIONER, message

ZONE = "Asia/Ho_Chi_Minh"
SENSOR = "urn:ngsi-ld:FloodMonitoring:pn-incident-test"
EXTRA_USERS = {"leader": (Role.LEADER, "ubnd-q"), "operator.b": (Role.OPERATOR, "ioc-q")}
"""Besides the district's people (tests/reports/helpers.py): a district leader in the
district office and a second IOC operator, both seeing the whole district."""


@dataclass
class Desk:
    """The district with a clock, the alarm engine and the people who act."""

    db: Database
    clock: FixedClock
    district: District
    pipeline: Pipeline

    def unit(self, code: str) -> uuid.UUID:
        return self.district.units[code]

    def who(self, username: str) -> Principal:
        return principal(self.db, username)

    def flood(self, metres: float, ward: str = "Phường 7") -> Alarm:
        """The sensor reports a water level in `ward`; the open alarm it leaves."""
        lon, lat = self.district.points[ward]
        document = {
            "currentLevel": {"value": metres, "observedAt": self.clock.now().isoformat()},
            "location": {"type": "Point", "coordinates": [lon, lat]},
        }
        received = self.clock.now()
        assert self.pipeline.ingest([message(SENSOR, document, PROVISIONER, received)]).stored == 1
        with self.db.read() as session:
            return session.scalars(select(Alarm).where(Alarm.entity_id == SENSOR)).one()


def build_desk(db: Database, clock: FixedClock) -> Desk:
    """The district of the reports tests, the default rules, a leader and a second operator."""
    district = build_district(db, clock)
    with db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
        whole = session.scalars(  # the operator sees the whole district
            select(UserScope.admin_unit_id)
            .join(User, User.id == UserScope.user_id)
            .where(User.username == "operator")
        ).all()
        for username, (role, unit) in EXTRA_USERS.items():
            add_user(session, username, role, district.units[unit], list(whole))
    bus = EventBus()
    pipeline = Pipeline(db, bus, clock, ZONE)
    AlarmEngine(db, bus, clock, Policy(), ZONE).attach()
    return Desk(db, clock, district, pipeline)
