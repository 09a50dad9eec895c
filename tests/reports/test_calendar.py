"""Working time: office hours on working days; weekends and public holidays do not count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dothi.config import Settings
from dothi.reports.calendar import WorkingCalendar

CALENDAR = WorkingCalendar.from_settings(Settings(database_url="sqlite:///unused"))
HCM = CALENDAR.zone


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (local(15, 1, 8, 30), 2, local(15, 1, 10, 30)),  # within a morning
        (local(15, 1, 10, 30), 2, local(15, 1, 14, 0)),  # over the lunch break
        (local(15, 1, 18, 0), 1, local(16, 1, 8, 30)),  # after hours: from the next morning
        # Friday 24/4 16:00, then the weekend and Hùng Kings' day (Monday 27/4).
        (local(24, 4, 16, 0), 4, local(28, 4, 10, 30)),
        # Over 30/4 and 1/5 (Thursday, Friday) and the weekend after them.
        (local(29, 4, 16, 0), 8, local(4, 5, 16, 0)),
        (local(24, 4, 16, 0), 40, local(6, 5, 16, 0)),  # five working days
    ],
)
def test_deadlines_count_working_hours_only(start: datetime, hours: float, due: datetime) -> None:
    assert CALENDAR.add(start, hours) == due
    assert CALENDAR.add(start, hours).tzinfo == UTC
    assert CALENDAR.between(start, due) == pytest.approx(hours)


def test_fixed_and_configured_holidays_are_days_off() -> None:
    assert not CALENDAR.is_working_day(local(2, 9, 9).date())  # National Day, every year
    assert not CALENDAR.is_working_day(local(17, 2, 9).date())  # Tết 2026, from the settings
    assert not CALENDAR.is_working_day(local(18, 1, 9).date())  # a Sunday
    assert CALENDAR.is_working_day(local(19, 1, 9).date())


def test_office_hours_are_configurable() -> None:
    shifts = WorkingCalendar.build("Asia/Ho_Chi_Minh", ["08:00-12:00"], [])
    assert shifts.add(local(15, 1, 11, 0), 2) == local(16, 1, 9, 0)
    with pytest.raises(ValueError, match="end before"):
        Settings(database_url="sqlite:///unused", working_hours=["17:00-08:00"])
