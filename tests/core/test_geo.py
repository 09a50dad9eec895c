from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from dothi.core.geo import Area, AreaIndex


def square(x0: float, y0: float, size: float) -> dict[str, object]:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


DISTRICT = Area("district", square(0, 0, 2), depth=1, valid_from=date(2020, 1, 1))
WEST = Area("west", square(0, 0, 1), depth=2, valid_from=date(2020, 1, 1))
OLD_EAST = Area("old-east", square(1, 0, 1), 2, date(2020, 1, 1), valid_to=date(2025, 7, 1))
NEW_EAST = Area("new-east", square(1, 0, 1), 2, date(2025, 7, 1))
INDEX = AreaIndex([DISTRICT, WEST, OLD_EAST, NEW_EAST])


def test_deepest_area_wins() -> None:
    assert INDEX.locate(0.5, 0.5, date(2026, 1, 1)) == "west"
    assert INDEX.locate(0.5, 1.5, date(2026, 1, 1)) == "district"
    assert INDEX.locate(5, 5, date(2026, 1, 1)) is None


def test_validity_period_is_respected_with_exclusive_end() -> None:
    assert INDEX.locate(1.5, 0.5, date(2025, 6, 30)) == "old-east"
    assert INDEX.locate(1.5, 0.5, date(2025, 7, 1)) == "new-east"
    assert INDEX.locate(1.5, 0.5, date(2019, 12, 31)) is None


@given(st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_points_inside_west_are_in_west(x: float, y: float) -> None:
    assert [a.key for a in INDEX.covering(x, y, date(2024, 1, 1))] == ["west", "district"]
