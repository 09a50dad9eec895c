"""Point -> unit lookup at a date, per tree, its cache, and counts of points per unit."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape
from sqlalchemy import select, text

from dothi.db.engine import Database
from dothi.places.datasets import load_bundled
from dothi.places.importer import import_geojson
from dothi.places.lookup import count_by_unit, locate, locate_chain, place_index
from dothi.places.models import AdminUnit
from dothi.places.service import create_unit, list_units
from tests.places.helpers import (
    BEN_THANH,
    DEMO_FROM,
    PHUONG_7,
    REFORM_FROM,
    TODAY,
    square,
    unit,
    unit_in,
)

WEST, SOUTH, EAST, NORTH = 106.6655, 10.7875, 106.6930, 10.8145  # around the district


def _inside(ward: AdminUnit) -> tuple[float, float]:
    assert ward.boundary is not None
    point = shape(ward.boundary).representative_point()
    return point.x, point.y


def test_points_in_phuong_7_locate_phuong_7(demo_db: Database) -> None:
    with demo_db.read() as session:
        ward_7 = unit(session, "27052")
        for lon, lat in (_inside(ward_7), PHUONG_7):
            found = locate(session, lon, lat, TODAY)
            assert found is not None and found.id == ward_7.id
        chain = locate_chain(session, *PHUONG_7, TODAY)
        assert [u.name for u in chain] == ["Phường 7", "Quận Phú Nhuận", "Thành phố Hồ Chí Minh"]


def test_every_ward_locates_itself(demo_db: Database) -> None:
    with demo_db.read() as session:
        for ward in list_units(session, level="ward", at=TODAY):
            found = locate(session, *_inside(ward), TODAY)
            assert found is not None and found.id == ward.id


def test_a_point_outside_the_district_locates_nothing(demo_db: Database) -> None:
    with demo_db.read() as session:
        district = unit(session, "768")
        assert locate(session, *BEN_THANH, TODAY, root=district.id) is None
        assert locate(session, *BEN_THANH, TODAY) is None
        assert locate_chain(session, *BEN_THANH, TODAY) == []


def test_nothing_is_located_before_the_tree_existed(demo_db: Database) -> None:
    with demo_db.read() as session:
        assert locate(session, *PHUONG_7, date(2019, 12, 31)) is None


def test_the_same_point_aggregates_under_either_tree(both_trees: Database) -> None:
    with both_trees.read() as session:
        city, province = unit(session, "79"), unit(session, "79", REFORM_FROM)
        ward_7, cau_kieu = unit(session, "27052"), unit(session, "27058", REFORM_FROM)
        ward = locate(session, *PHUONG_7, TODAY, root=province.id)
        assert ward is not None and ward.id == cau_kieu.id
        ward = locate(session, *PHUONG_7, TODAY, root=city.id)
        assert ward is not None and ward.id == ward_7.id
        points = [PHUONG_7, BEN_THANH, _inside(unit(session, "27043"))]  # 7, outside, Phường 4
        old = count_by_unit(session, points, level="ward", root=city.id, day=TODAY)
        new = count_by_unit(session, points, level="ward", root=province.id, day=TODAY)
        assert len(old) == 15 and sum(old.values()) == 2
        assert old[ward_7.id] == old[unit(session, "27043").id] == 1
        assert new == {
            cau_kieu.id: 1,
            unit(session, "27043", REFORM_FROM).id: 1,  # Đức Nhuận took Phường 4
            unit(session, "27073", REFORM_FROM).id: 0,
        }
        by_district = count_by_unit(session, points, level="district", root=city.id, day=TODAY)
        assert by_district == {unit(session, "768").id: 2}
        assert count_by_unit(session, points, level="ward", root=province.id, day=DEMO_FROM) == {}


def test_a_unit_ended_in_the_past_is_found_only_before_its_end(db: Database) -> None:
    with db.write() as session:
        create_unit(
            session,
            unit_in("1", "Old ward", "ward", valid_to=date(2021, 2, 1), boundary=square(1, 1)),
        )
    with db.read() as session:
        assert locate(session, 1.005, 1.005, TODAY) is None
        found = locate(session, 1.005, 1.005, date(2020, 6, 1))
        assert found is not None and found.name == "Old ward"


def test_the_index_is_cached_until_the_places_change(demo_db: Database) -> None:
    with demo_db.read() as session:
        index = place_index(session)
        assert len(index) == 16  # the district and 15 wards; the city has no boundary
    with demo_db.read() as session:
        assert place_index(session) is index
    moved_ward = {  # same key and row count as before, another boundary
        "type": "Feature",
        "geometry": square(1, 1),
        "properties": {"code": "27052", "name": "Phường 7", "level": "ward", "parent": "768"}
        | {"valid_from": "2020-01-01"},
    }
    with demo_db.write() as session:
        import_geojson(session, {"type": "FeatureCollection", "features": [moved_ward]})
    with demo_db.read() as session:
        assert place_index(session) is not index
        found = locate(session, 1.005, 1.005, TODAY)
        assert found is not None and found.name == "Phường 7"
        assert locate(session, *PHUONG_7, TODAY) == unit(session, "768")


def test_lookup_agrees_with_a_brute_force_search(demo_db: Database) -> None:
    with demo_db.read() as session:
        index = place_index(session)
        units = session.scalars(select(AdminUnit).where(AdminUnit.boundary.is_not(None)))
        shapes = sorted(((u.depth, shape(u.boundary), u.id) for u in units), key=lambda s: -s[0])

    @settings(max_examples=300, deadline=None)
    @given(st.floats(WEST, EAST), st.floats(SOUTH, NORTH))
    def agrees(lon: float, lat: float) -> None:
        point = Point(lon, lat)
        expected = next((key for _, geometry, key in shapes if geometry.covers(point)), None)
        found = index.locate((lon, lat), TODAY)
        assert (found.id if found else None) == expected

    agrees()


def test_postgis_agrees_with_the_shapely_lookup(pg_database_url: str) -> None:
    demo_db = Database(pg_database_url)
    with demo_db.write() as session:
        load_bundled(session, "phu-nhuan")
    steps = range(1, 21)  # a 20 x 20 grid over the district and its surroundings
    points = [
        (WEST + (EAST - WEST) * i / 21.3, SOUTH + (NORTH - SOUTH) * j / 21.7)
        for i in steps
        for j in steps
    ]
    deepest = text(
        "SELECT id FROM admin_units "
        "WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) "
        "ORDER BY length(path) DESC LIMIT 1"
    )
    with demo_db.read() as session:
        inside = 0
        for lon, lat in points:
            expected = session.scalar(deepest, {"lon": lon, "lat": lat})
            found = locate(session, lon, lat, TODAY)
            assert (found.id if found else None) == expected
            inside += expected is not None
        assert 100 < inside < len(points)  # the grid covers both the district and its surroundings
    demo_db.dispose()
