"""The places service: creating units, keys and periods, paths, filters and tree walks."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from dothi.db.engine import Database
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.service import (
    ancestors,
    children,
    create_unit,
    get_unit,
    list_units,
    subtree,
    unit_by_id_or_code,
    update_unit,
)
from tests.places.helpers import DEMO_FROM, REFORM_FROM, TODAY, count_units, unit, unit_in


def test_units_get_materialized_paths_from_their_parents(db: Database) -> None:
    with db.write() as session:
        city = create_unit(session, unit_in("1", "Thành phố", "city"))
        district = create_unit(session, unit_in("2", "Quận", "district", parent="1"))
        ward = create_unit(session, unit_in("3", "Phường Đức Nhuận", "ward", parent="2"))
    assert city.path == f"/{city.id}/"
    assert ward.path == f"/{city.id}/{district.id}/{ward.id}/"
    assert (ward.parent_id, ward.depth, ward.search_name) == (district.id, 2, "phuong duc nhuan")
    with db.read() as session:
        assert [u.name for u in ancestors(session, ward)] == [
            "Phường Đức Nhuận",
            "Quận",
            "Thành phố",
        ]
        assert [u.code for u in subtree(session, city.id)] == ["1", "2", "3"]
        assert [u.code for u in subtree(session, district.id)] == ["2", "3"]
        assert [u.code for u in children(session, city.id)] == ["2"]


def test_same_code_and_start_is_a_conflict_and_writes_nothing(db: Database) -> None:
    with db.write() as session:
        create_unit(session, unit_in("79", "Thành phố Hồ Chí Minh", "city"))
    duplicate = pytest.raises(Conflict, match="79 valid from 2020-01-01 already exists")
    with duplicate, db.write() as session:
        create_unit(session, unit_in("80", "Long An", "province"))
        create_unit(session, unit_in("79", "Duplicate", "city"))
    with db.read() as session:
        assert count_units(session) == 1
        assert unit(session, "79").name == "Thành phố Hồ Chí Minh"
    with db.write() as session:  # the code is free again from another first day
        create_unit(
            session, unit_in("79", "Thành phố Hồ Chí Minh", "province", valid_from=REFORM_FROM)
        )
    with db.read() as session:
        assert count_units(session) == 2


def test_parent_code_is_resolved_on_the_childs_first_day(db: Database) -> None:
    with db.write() as session:
        old = create_unit(session, unit_in("79", "Old city", "city", valid_to=REFORM_FROM))
        new = create_unit(session, unit_in("79", "New city", "province", valid_from=REFORM_FROM))
        before = create_unit(
            session, unit_in("1", "Before", "ward", "79", valid_from=date(2024, 1, 1))
        )
        after = create_unit(session, unit_in("2", "After", "ward", "79", valid_from=REFORM_FROM))
        open_ended = create_unit(session, unit_in("3", "Kept", "city"))
        newest = create_unit(session, unit_in("3", "Reformed", "province", valid_from=REFORM_FROM))
        child = create_unit(
            session, unit_in("4", "Child", "ward", "3", valid_from=date(2025, 8, 1))
        )
    assert (before.parent_id, after.parent_id) == (old.id, new.id)
    assert child.parent_id == newest.id != open_ended.id  # overlapping periods: the newest wins


def test_unknown_parent_is_invalid_input(db: Database) -> None:
    orphan = pytest.raises(InvalidInput, match="no administrative unit with code 99 on 2020-01-01")
    with orphan, db.write() as session:
        create_unit(session, unit_in("1", "Orphan", "ward", parent="99"))


def test_update_keeps_the_id_and_moves_the_descendants(db: Database) -> None:
    with db.write() as session:
        first = create_unit(session, unit_in("A", "First", "city"))
        second = create_unit(session, unit_in("B", "Second", "city"))
        district = create_unit(session, unit_in("D", "District", "district", parent="A"))
        ward = create_unit(session, unit_in("W", "Ward", "ward", parent="D"))
    with db.write() as session:
        moved = update_unit(
            session, get_unit(session, district.id), unit_in("D", "Moved", "district", "B")
        )
    assert (moved.id, moved.name, moved.parent_id) == (district.id, "Moved", second.id)
    with db.read() as session:
        assert get_unit(session, ward.id).path == f"/{second.id}/{district.id}/{ward.id}/"
        assert [u.code for u in subtree(session, first.id)] == ["A"]
        assert [u.code for u in subtree(session, second.id)] == ["B", "D", "W"]


def test_a_unit_cannot_move_under_its_own_descendant(db: Database) -> None:
    with db.write() as session:
        create_unit(session, unit_in("A", "City", "city"))
        create_unit(session, unit_in("D", "District", "district", parent="A"))
    with pytest.raises(InvalidInput, match="own descendant"), db.write() as session:
        update_unit(session, unit(session, "A"), unit_in("A", "City", "city", parent="D"))


def test_update_to_a_key_taken_by_another_unit_is_a_conflict(db: Database) -> None:
    with db.write() as session:
        create_unit(session, unit_in("A", "One", "city"))
        create_unit(session, unit_in("B", "Two", "city"))
    with pytest.raises(Conflict), db.write() as session:
        update_unit(session, unit(session, "B"), unit_in("A", "Two", "city"))


def test_list_filters_by_level_parent_date_and_folded_name(demo_db: Database) -> None:
    with demo_db.read() as session:
        district = unit(session, "768")
        everything = list_units(session, at=TODAY)
        assert [u.level for u in everything[:2]] == ["city", "district"]  # shallowest first
        assert len(list_units(session, level="ward", at=TODAY)) == 15
        assert len(list_units(session, parent=district.id)) == 15
        assert len(list_units(session, parent="768", at=TODAY)) == 15
        assert list_units(session, parent=uuid.uuid4()) == []
        assert [u.name for u in list_units(session, q="phuong 7")] == ["Phường 7"]
        assert [u.name for u in list_units(session, q="QUẬN phu NHUAN")] == ["Quận Phú Nhuận"]
        numbers = {u.name.split()[-1] for u in list_units(session, q="Phuong 1")}
        assert numbers == {"1", "10", "11", "12", "13", "14", "15", "17"}
        assert list_units(session, q="%") == []  # wildcards are text, not patterns
        assert list_units(session, at=date(2019, 12, 31)) == []


def test_list_pages_through_every_unit_once(demo_db: Database) -> None:
    with demo_db.read() as session:
        pages = [list_units(session, limit=5, offset=offset) for offset in range(0, 20, 5)]
        assert [len(page) for page in pages] == [5, 5, 5, 2]
        assert len({u.id for page in pages for u in page}) == 17
        with pytest.raises(InvalidInput, match="limit"):
            list_units(session, limit=0)


def test_validity_end_is_exclusive(db: Database) -> None:
    merged = date(2021, 2, 1)
    with db.write() as session:
        create_unit(session, unit_in("27082", "Phường 12", "ward", valid_to=merged))
    with db.read() as session:
        assert list_units(session, at=TODAY) == []
        assert list_units(session, at=merged) == []
        assert [u.code for u in list_units(session, at=date(2021, 1, 31))] == ["27082"]
        assert [u.code for u in list_units(session, at=DEMO_FROM)] == ["27082"]


def test_units_by_id_or_code(demo_db: Database) -> None:
    with demo_db.read() as session:
        ward = unit(session, "27052")
        assert unit_by_id_or_code(session, ward.id, TODAY) is ward
        assert unit_by_id_or_code(session, "27052", TODAY) is ward
        with pytest.raises(NotFound):
            unit_by_id_or_code(session, "27052", date(2019, 1, 1))
        with pytest.raises(NotFound):
            get_unit(session, uuid.uuid4())
        with pytest.raises(NotFound):
            children(session, uuid.uuid4())
