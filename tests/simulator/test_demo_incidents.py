"""The demo starts with work in hand: two incidents (one being handled) and a directive."""

from __future__ import annotations

from datetime import UTC, datetime

from dothi.accounts.directory import BUNDLED, import_directory
from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.incidents import directives, service
from dothi.incidents.schemas import DirectiveQuery, IncidentQuery
from dothi.simulator.incidents import load_demo_incidents

ZONE = "Asia/Ho_Chi_Minh"


def test_the_demo_has_incidents_and_a_directive_once(demo_db: Database) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 8, tzinfo=UTC))
    with demo_db.write() as session:
        import_directory(session, SYSTEM, BUNDLED["phu-nhuan"], clock, ZONE)
        load_demo_incidents(session, clock, ZONE, "768")
        load_demo_incidents(session, clock, ZONE, "768")  # a restart adds nothing
    with demo_db.read() as session:
        incidents = service.list_incidents(session, SYSTEM, IncidentQuery()).items
        sent = directives.list_directives(session, SYSTEM, DirectiveQuery(), clock)
        flooding = next(i for i in incidents if i.type == "flooding")
        detail = service.incident_detail(session, SYSTEM, flooding.id, clock)
    states = [step.state.code for step in detail.steps]
    assert sorted(i.type for i in incidents) == ["fallen_tree", "flooding"]
    assert states[:2] == ["done", "dispatched"]
    assert len(sent) == 1 and len(sent[0].targets) == 2
