"""The rules a deployment sets for reports: working time, time to accept, the area served."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dothi.config import Settings
from dothi.reports.calendar import WorkingCalendar

REOPEN_WITHIN = timedelta(days=7)
"""A citizen may reopen a closed report for this long after it was closed."""


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """Working calendar, hours a unit has to accept, and the tree reports are placed in."""

    calendar: WorkingCalendar
    accept_hours: float = 8
    root_unit: str | None = None
    reopen_within: timedelta = REOPEN_WITHIN

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportPolicy:
        return cls(
            WorkingCalendar.from_settings(settings),
            settings.report_accept_hours,
            settings.root_unit,
        )
