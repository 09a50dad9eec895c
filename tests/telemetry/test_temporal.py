"""Parameters of temporal queries: durations, methods and time ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dothi.errors import InvalidInput
from dothi.telemetry.temporal import TimeQuery, parse_duration, parse_methods

AT = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H", timedelta(hours=1)),
        ("PT15M", timedelta(minutes=15)),
        ("P1D", timedelta(days=1)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT0S", None),
    ],
)
def test_durations_are_read(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "PT", "P", "1H", "PT0.5S", "P99999999999D"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(text)


def test_methods_and_ranges_are_checked() -> None:
    assert parse_methods("avg, max,avg") == ("avg", "max")
    with pytest.raises(InvalidInput):
        parse_methods("avg,stddev")
    assert TimeQuery("before", AT).bounds() == (None, AT)
    assert TimeQuery("after", AT).bounds() == (AT, None)
    with pytest.raises(InvalidInput):
        TimeQuery("between", AT, AT).bounds()
    with pytest.raises(InvalidInput):
        TimeQuery("after").bounds()
