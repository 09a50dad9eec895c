"""A composite rule in the engine: heavy rain near a flood hotspot whose water is up."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.lifecycle import Policy
from dothi.alarms.models import Alarm
from dothi.alarms.schemas import parse_rule
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline
from tests.telemetry.helpers import NOW, PROVISIONER, WARD_7

ZONE = "Asia/Ho_Chi_Minh"
RAIN_AND_WATER = parse_rule(
    {
        "code": "rain-and-flood",
        "name": "Mưa lớn và ngập",
        "kind": "composite",
        "wards": ["*"],
        "first": {"entity_type": "WeatherObserved", "attribute": "precipitation", "above": 20},
        "second": {"entity_type": "FloodMonitoring", "attribute": "currentLevel", "above": 0.05},
        "within_meters": 1000,
        "within_seconds": 1800,
        "severity": "critical",
    }
)
GAUGE = "urn:ngsi-ld:WeatherObserved:pn-rain-1"
NEAR = "urn:ngsi-ld:FloodMonitoring:pn-near"  # ~330 m from the gauge
FAR = "urn:ngsi-ld:FloodMonitoring:pn-far"  # ~2.2 km away


def test_the_alarm_rises_on_the_hotspot_near_the_rain_and_clears_when_it_stops(
    demo_db: Database,
) -> None:
    clock = FixedClock(NOW)
    bus = EventBus()
    pipeline = Pipeline(demo_db, bus, clock, ZONE)
    AlarmEngine(demo_db, bus, clock, Policy(), ZONE).attach()
    with demo_db.write() as session:
        ensure_rules(session, [RAIN_AND_WATER], SYSTEM, clock, ZONE)
    lon, lat = WARD_7
    places = {GAUGE: (lon, lat), NEAR: (lon + 0.003, lat), FAR: (lon - 0.02, lat)}

    def report(entity: str, **values: float) -> None:
        clock.advance(timedelta(minutes=1))
        document: dict[str, Any] = {
            name: {"value": value, "observedAt": clock.now().isoformat()}
            for name, value in values.items()
        }
        document["location"] = {"type": "Point", "coordinates": list(places[entity])}
        body = json.dumps(document).encode()
        pipeline.ingest([Incoming("mqtt", entity, body, clock.now(), PROVISIONER)])

    def open_alarms() -> list[str]:
        with demo_db.read() as session:
            query = select(Alarm.entity_id).where(Alarm.state != "cleared")
            return sorted(session.scalars(query))

    report(NEAR, currentLevel=0.12)
    report(FAR, currentLevel=0.12)
    assert open_alarms() == []  # water, but no rain reported
    report(GAUGE, precipitation=35.0)
    assert open_alarms() == [NEAR]  # raised by the rain's arrival, only near it
    report(GAUGE, precipitation=2.0)
    assert open_alarms() == []  # the rain stopped: cleared
    with demo_db.read() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert (alarm.severity, alarm.cleared_by, alarm.rule_code) == (
        "critical",
        "rules",
        "rain-and-flood",
    )
    assert GAUGE in alarm.reason  # why it was raised stays
