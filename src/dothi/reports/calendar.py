"""Working time: office hours on weekdays that are not public holidays, in the local zone.

Deadlines of reports count working hours only (an urgent report due in 4 working hours,
sent on Friday at 16:00, is due on Monday at 10:30). Fixed public holidays are known; the
lunar ones (Tết, Hùng Kings' day) and moved days off come from the settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dothi.config import Settings
from dothi.core.clock import as_utc

FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 1), (9, 2))
"""(month, day) off every year: New Year, Reunification, Labour Day, National Day (2 days)."""

MAX_DAYS = 3660  # a deadline ten years away is a configuration error, not a loop for ever


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Office hours per working day, in `zone`; weekends and holidays are off."""

    zone: ZoneInfo
    spans: tuple[tuple[time, time], ...]
    holidays: frozenset[date]

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingCalendar:
        return cls.build(settings.timezone, settings.working_hours, settings.holidays)

    @classmethod
    def build(cls, zone: str, hours: Iterable[str], holidays: Iterable[date]) -> WorkingCalendar:
        """From `HH:MM-HH:MM` spans (sorted, not overlapping) and extra days off."""
        spans = []
        for span in hours:
            start, _, end = span.partition("-")
            spans.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
        spans.sort()
        if any(earlier[1] > later[0] for earlier, later in pairwise(spans)):
            raise ValueError(f"working hours overlap: {', '.join(hours)}")
        return cls(ZoneInfo(zone), tuple(spans), frozenset(holidays))

    def is_working_day(self, day: date) -> bool:
        fixed = (day.month, day.day) in FIXED_HOLIDAYS
        return day.weekday() < 5 and not fixed and day not in self.holidays

    def _periods(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """The working periods (local, aware) from `start` on, clipped to start after it."""
        local = as_utc(start).astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                for begin, end in self.spans:
                    period_start = datetime.combine(day, begin, self.zone)
                    period_end = datetime.combine(day, end, self.zone)
                    if period_end > local:
                        yield max(period_start, local), period_end
            day += timedelta(days=1)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (UTC)."""
        left = timedelta(hours=hours)
        for begin, end in self._periods(start):
            if end - begin >= left:
                return as_utc(begin + left)
            left -= end - begin
        raise ValueError("no working time in the next ten years: check the office hours")

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` (0 when end is not after start)."""
        end = as_utc(end)
        total = timedelta()
        for begin, finish in self._periods(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total.total_seconds() / 3600
