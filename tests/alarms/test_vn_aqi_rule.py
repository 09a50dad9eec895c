"""The default VN_AQI rule in the engine: computed from a station's hourly means, judged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import Policy
from dothi.alarms.models import Alarm
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from tests.telemetry.helpers import NOW, WARD_7, message

ZONE = "Asia/Ho_Chi_Minh"
STATION = "urn:ngsi-ld:AirQualityObserved:pn-aqi-test"


def test_three_hours_of_heavy_pm25_raise_a_critical_vn_aqi_alarm(demo_db: Database) -> None:
    clock = FixedClock(NOW)
    bus = EventBus()
    pipeline = Pipeline(demo_db, bus, clock, ZONE)
    AlarmEngine(demo_db, bus, clock, Policy(), ZONE).attach()
    with demo_db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
    location = {"type": "Point", "coordinates": list(WARD_7)}
    # PM2.5 of 160 µg/m³ for three hours: NowCast 160, between the breakpoints 150 (index
    # 200) and 250 (index 300): 200 + (160 - 150) × 100 / 100 = 210, "Rất xấu": critical.
    for hours_ago in (2, 1, 0):
        at = (NOW - timedelta(hours=hours_ago)).isoformat()
        pipeline.ingest(
            [message(STATION, {"pm25": {"value": 160.0, "observedAt": at}, "location": location})]
        )
        clock.advance(timedelta(minutes=6))  # past the engine's pause between judgements
    with demo_db.read() as session:
        alarm = session.scalars(select(Alarm)).one()
    assert (alarm.rule_code, alarm.severity, alarm.value) == ("air-quality-vn-aqi", "critical", 210)
