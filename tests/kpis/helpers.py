"""A small district for the dashboard: stations and a flood hotspot reporting, alarms raised
by the default rules, citizen reports in Phường 2 and Phường 9, and a Phường 2 officer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from dothi.accounts.permissions import SYSTEM, Role
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.io import default_rules
from dothi.alarms.lifecycle import Policy
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.messages import Incoming
from dothi.telemetry.pipeline import Pipeline
from tests.accounts.helpers import add_user
from tests.reports.helpers import START, District, build_district, submit
from tests.telemetry.helpers import PROVISIONER

ZONE = "Asia/Ho_Chi_Minh"
NOW = START + timedelta(days=30)
STATION_P2 = "urn:ngsi-ld:AirQualityObserved:t-p2"
STATION_P9 = "urn:ngsi-ld:AirQualityObserved:t-p9"
FLOOD_P9 = "urn:ngsi-ld:FloodMonitoring:t-p9"
PM25 = {STATION_P2: 20.0, STATION_P9: 100.0}  # VN_AQI 40 and 164
AQI = {"Phường 2": 40, "Phường 9": 164}


@dataclass(frozen=True)
class Scene:
    """The built district: where things are, the reports' codes by ward, the clock at NOW."""

    district: District
    clock: FixedClock
    reports: dict[str, list[str]]


def _reading(
    entity: str, name: str, point: tuple[float, float], values: dict[str, float], clock: FixedClock
) -> Incoming:
    at = clock.now().isoformat()
    document = {
        "name": {"type": "Property", "value": name},
        "location": {"type": "Point", "coordinates": list(point)},
        **{key: {"value": value, "observedAt": at} for key, value in values.items()},
    }
    return Incoming("mqtt", entity, json.dumps(document).encode(), clock.now(), PROVISIONER)


def build_scene(db: Database) -> Scene:
    """Three hours of readings up to NOW, the alarms they raise, reports: one overdue."""
    clock = FixedClock(START)
    district = build_district(db, clock)
    with db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
        add_user(
            session,
            "officer.p2",
            Role.OFFICER,
            district.units["ubnd-p2"],
            [district.wards["Phường 2"]],
        )
    reports = {
        "Phường 9": [submit(db, district, clock, ward="Phường 9").tracking_code],
    }
    clock.advance(NOW - START - timedelta(hours=3))
    bus = EventBus()
    pipeline = Pipeline(db, bus, clock, ZONE)
    AlarmEngine(db, bus, clock, Policy(timedelta(hours=1), timedelta(hours=1)), ZONE).attach()
    for _step in range(10):
        clock.advance(timedelta(minutes=20))
        pipeline.ingest(
            [
                _reading(
                    STATION_P2,
                    "Trạm Phường 2",
                    district.points["Phường 2"],
                    {"pm25": PM25[STATION_P2]},
                    clock,
                ),
                _reading(
                    STATION_P9,
                    "Trạm Phường 9",
                    district.points["Phường 9"],
                    {"pm25": PM25[STATION_P9]},
                    clock,
                ),
                _reading(
                    FLOOD_P9,
                    "Điểm ngập Phường 9",
                    district.points["Phường 9"],
                    {"currentLevel": 0.4},
                    clock,
                ),
            ]
        )
    reports["Phường 9"].append(submit(db, district, clock, ward="Phường 9").tracking_code)
    reports["Phường 2"] = [submit(db, district, clock, ward="Phường 2").tracking_code]
    return Scene(district, clock, reports)
