"""Helpers of the dashboard tests: the demo district with reports, alarm rules and two
flood sensors (Phường 7 and 9), and the strings of the dashboard's templates."""

from __future__ import annotations

from datetime import datetime

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.io import default_rules
from dothi.cameras.schemas import CameraIn
from dothi.cameras.service import save_camera
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from tests.alarms.test_feed import WARDS as FLOOD_POINTS
from tests.alarms.test_feed import ZONE, flood_reading
from tests.reports.helpers import District, build_district, submit

WARDS = ("Phường 7", "Phường 9")


def prepare(db: Database, clock: FixedClock) -> tuple[District, dict[str, str]]:
    """The district, the default rules, a report in each of `WARDS` (ward -> its code)."""
    district = build_district(db, clock)
    with db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, clock, ZONE)
    codes = {ward: submit(db, district, clock, ward=ward).tracking_code for ward in WARDS}
    return district, codes


def cameras(db: Database, clock: FixedClock) -> None:
    """A camera in each of `WARDS`, beside its flood sensor."""
    with db.write() as session:
        for ward in WARDS:
            lon, lat = FLOOD_POINTS[ward]
            number = ward.split()[-1]
            data = CameraIn(code=f"CAM-{number}", name=f"Camera {ward}", lon=lon, lat=lat)
            save_camera(session, SYSTEM, data, clock, ZONE)


def water(pipeline: Pipeline, ward: str, metres: float, at: datetime) -> None:
    """The flood sensor of `ward` reports a level (created at its first reading)."""
    assert pipeline.ingest([flood_reading(ward, metres, FixedClock(at))]).stored == 1
