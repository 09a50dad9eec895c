"""The whole story of an alarm, at one of the simulated district's flood hotspots.

Water rises → warning, then critical → nobody acknowledges → the duty leader is told
after the configured minutes, then reminded → an operator acknowledges and the reminders
stop → the water falls → the alarm clears by itself. On both backends, with a fake clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from dothi.accounts.audit import list_entries
from dothi.accounts.permissions import SYSTEM, Principal, Role
from dothi.accounts.schemas import AuditQuery
from dothi.alarms import catalogue, lifecycle
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import ALARMS_CHANGED, AlarmChange, Policy
from dothi.alarms.models import Alarm, AlarmEvent
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.errors import Forbidden
from dothi.places.service import unit_paths
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline
from tests.simulator.helpers import layout_of
from tests.telemetry.helpers import NOW, PROVISIONER

ZONE = "Asia/Ho_Chi_Minh"
POLICY = Policy(escalate_after=timedelta(minutes=15), remind_every=timedelta(minutes=10))


class Story:
    """The district's first flood hotspot reporting through the pipeline, judged by the rules."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = FixedClock(NOW)
        self.bus = EventBus()
        self.changes: list[AlarmChange] = []
        self.bus.subscribe(ALARMS_CHANGED, self.changes.extend)
        self.pipeline = Pipeline(database, self.bus, self.clock, ZONE)
        self.engine = AlarmEngine(database, self.bus, self.clock, POLICY, ZONE)
        self.engine.attach()
        self.hotspot = layout_of(database).of_type("FloodMonitoring")[0]
        self.level = 0.0
        with database.write() as session:
            ensure_rules(session, default_rules(), SYSTEM, self.clock, ZONE)

    def water(self, metres: float) -> list[str]:
        """The hotspot reports a new water level a minute later; the transitions it caused."""
        self.clock.advance(timedelta(minutes=1))
        self.level = metres
        return self._kinds(self._report)

    def later(self, minutes: int) -> list[str]:
        """Time passes, the hotspot reporting the same level every 5 minutes and the timers
        running; the transitions that caused."""
        kinds = []
        for _ in range(minutes // 5):
            self.clock.advance(timedelta(minutes=5))
            kinds += self._kinds(self._report) + self._kinds(self.engine.tick)
        return kinds

    def _report(self) -> None:
        document = {
            "currentLevel": {"value": self.level, "observedAt": self.clock.now().isoformat()},
            "location": {"type": "Point", "coordinates": [self.hotspot.lon, self.hotspot.lat]},
        }
        body = json.dumps(document).encode()
        message = Incoming("mqtt", self.hotspot.entity_id, body, self.clock.now(), PROVISIONER)
        self.pipeline.ingest([message])

    def _kinds(self, action: Callable[[], object]) -> list[str]:
        before = len(self.changes)
        action()
        return [change.kind for change in self.changes[before:]]

    def alarm(self) -> Alarm:
        with self.database.read() as session:
            return session.scalars(select(Alarm)).one()


def _operator(database: Database, alarm: Alarm) -> Principal:
    """A district operator: the hotspot's ward's parent is in their scope."""
    assert alarm.admin_unit_id is not None
    with database.read() as session:
        ward_path = unit_paths(session, [alarm.admin_unit_id])[alarm.admin_unit_id]
    district = ward_path.rstrip("/").rsplit("/", 1)[0] + "/"
    return Principal(None, "op-nguyen", Role.OPERATOR, scope_paths=(district,))


def test_a_flood_alarm_rises_escalates_is_acknowledged_and_clears_itself(
    demo_db: Database,
) -> None:
    story = Story(demo_db)
    assert story.water(0.04) == []  # a wet street, nothing more
    assert story.water(0.12) == ["raised"]
    alarm = story.alarm()
    assert (alarm.severity, alarm.state, alarm.entity_id) == (
        "warning",
        "active",
        story.hotspot.entity_id,
    )
    assert alarm.admin_unit_id is not None  # placed in the hotspot's ward: scoped
    assert story.water(0.35) == ["worse"]
    assert story.alarm().severity == "critical"
    assert story.water(0.36) == []  # the same condition: no news

    assert story.later(10) == []  # 12 minutes unacknowledged: not yet
    assert story.later(5) == ["escalated"]  # 17 minutes: the duty leader is told
    assert story.alarm().escalation_level == 1
    assert story.later(10) == ["reminded"]
    assert story.later(10) == ["reminded"]

    operator = _operator(demo_db, story.alarm())
    with demo_db.write() as session:
        lifecycle.acknowledge(
            session, operator, story.alarm().id, "Đã cử đội thoát nước", story.clock
        )
    acknowledged = story.alarm()
    assert (acknowledged.state, acknowledged.acknowledged_by) == ("acknowledged", "op-nguyen")
    assert story.later(30) == []  # reminders stop
    assert story.alarm().reminders == 2

    assert story.water(0.29) == []  # within the hysteresis of the critical level (0.3 - 0.02)
    assert story.water(0.2) == ["better"]
    assert story.alarm().severity == "warning"
    assert story.water(0.05) == ["cleared"]
    cleared = story.alarm()
    assert (cleared.state, cleared.cleared_by, cleared.open_key) == ("cleared", "rules", None)

    with demo_db.read() as session:
        history = session.scalars(select(AlarmEvent).order_by(AlarmEvent.at)).all()
        audited = list_entries(session, SYSTEM, AuditQuery(limit=100))
    assert [event.kind for event in history] == [
        "raised",
        "worse",
        "escalated",
        "reminded",
        "reminded",
        "acknowledged",
        "better",
        "cleared",
    ]
    assert history[5].actor == "op-nguyen" and history[5].note == "Đã cử đội thoát nước"
    alarm_actions = [e.action for e in audited.items if e.action.startswith("alarm.")]
    assert sorted(alarm_actions) == sorted(f"alarm.{event.kind}" for event in history)


def test_a_flood_that_comes_back_at_once_reopens_its_alarm(demo_db: Database) -> None:
    story = Story(demo_db)
    assert story.water(0.15) == ["raised"]
    assert story.water(0.02) == ["cleared"]
    assert story.water(0.15) == ["reopened"]  # a flap: the same alarm, counted
    reopened = story.alarm()
    assert (reopened.state, reopened.flaps) == ("active", 1)
    assert story.later(11) == []  # the flap window passes; the alarm escalates in its time
    assert story.water(0.02) == ["cleared"]
    story.later(11)
    assert story.water(0.15) == ["raised"]  # long after: a new alarm
    with demo_db.read() as session:
        assert len(session.scalars(select(Alarm)).all()) == 2


def test_a_ward_officer_cannot_acknowledge_another_wards_alarm(demo_db: Database) -> None:
    story = Story(demo_db)
    story.water(0.4)
    alarm = story.alarm()
    operator = _operator(demo_db, alarm)
    elsewhere = replace(operator, role=Role.OFFICER, scope_paths=("/nowhere/",))
    with demo_db.write() as session, pytest.raises(Forbidden):
        lifecycle.acknowledge(session, elsewhere, alarm.id, None, story.clock)
    assert story.alarm().state == "active"


def test_changing_or_deleting_a_rule_clears_its_open_alarms(demo_db: Database) -> None:
    story = Story(demo_db)
    assert story.water(0.4) == ["raised"]
    with demo_db.write() as session:
        rule = catalogue.definition(catalogue.get_rule(session, SYSTEM, "flood-level"))
        catalogue.replace_rule(session, SYSTEM, "flood-level", rule, story.clock, ZONE)
    changed = story.alarm()
    assert (changed.state, changed.cleared_by) == ("cleared", "system")
    assert story.water(0.41) == ["raised"]  # judged afresh: a new alarm (not a flap)
    with demo_db.write() as session:
        catalogue.delete_rule(session, SYSTEM, "flood-level", story.clock)
    with demo_db.read() as session:
        alarms = session.scalars(select(Alarm).order_by(Alarm.raised_at)).all()
    assert [a.state for a in alarms] == ["cleared", "cleared"]
    assert alarms[1].rule_id is None and alarms[1].rule_code == "flood-level"  # kept
