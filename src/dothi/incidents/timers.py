"""The timed work of incidents: late SOP steps escalate, directives remind and go overdue."""

from __future__ import annotations

from dataclasses import dataclass

from dothi.alarms.lifecycle import Policy
from dothi.core.clock import Clock
from dothi.db.engine import Database
from dothi.incidents import directives, steps


@dataclass(frozen=True, slots=True)
class Ticked:
    """What one tick changed."""

    steps: list[steps.StepChange]
    directives: list[directives.TargetChange]


def tick(database: Database, clock: Clock, policy: Policy) -> Ticked:
    """Escalate late steps and remind or mark overdue directives (alarms escalate by
    `policy`), in one unit of work."""
    with database.write() as session:
        return Ticked(
            steps.escalate_due(session, clock), directives.remind_due(session, clock, policy)
        )
