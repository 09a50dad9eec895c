"""The demo district's layout read from a database with the bundled wards."""

from __future__ import annotations

from datetime import UTC, datetime

from dothi.db.engine import Database
from dothi.simulator.district import Layout, build_layout, load_roads, load_wards
from dothi.simulator.run import DISTRICT, LAYOUT_SEED

ZONE = "Asia/Ho_Chi_Minh"
JULY = datetime(2026, 7, 15, 2, 0, tzinfo=UTC)
"""09:00 local on a Wednesday of the rainy season."""


def minute_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def layout_of(database: Database, seed: int = LAYOUT_SEED) -> Layout:
    with database.read() as session:
        wards = load_wards(session, DISTRICT, JULY.date())
    return build_layout(wards, load_roads(), seed)
