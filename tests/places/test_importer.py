"""GeoJSON import: what lands in the database, re-imports, progress, and refused files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dothi.db.engine import Database
from dothi.errors import InvalidInput
from dothi.places.datasets import dataset_path, load_bundled
from dothi.places.importer import import_geojson
from dothi.places.service import get_unit, list_units
from tests.places.helpers import TODAY, count_units, square, unit


def feature(code: str, name: str, level: str, parent: str | None = None, **extra: Any) -> Any:
    properties = {"code": code, "name": name, "level": level, "parent": parent}
    properties |= {"valid_from": "2020-01-01"} | extra
    geometry = properties.pop("geometry", square(106.6, 10.7))
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(*features: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def test_demo_district_loads_with_its_15_wards(demo_db: Database) -> None:
    with demo_db.read() as session:
        wards = list_units(session, level="ward", at=TODAY)
        district = unit(session, "768")
        assert len(wards) == 15
        assert {u.parent_id for u in wards} == {district.id}
        assert all(u.path.startswith(district.path) for u in wards)
        ward_7 = unit(session, "27052")
        assert (ward_7.name, ward_7.name_en, ward_7.level) == ("Phường 7", "Ward 7", "ward")
        assert ward_7.population_estimated and ward_7.population
        assert ward_7.area_km2 == pytest.approx(0.4313, abs=1e-4)
        assert ward_7.attributes["osm_relation_id"] == 3853749
        assert ward_7.attributes["attribution"] == "© OpenStreetMap contributors"
        assert ward_7.boundary is not None and ward_7.boundary["type"] == "Polygon"


def test_reimport_updates_in_place(demo_db: Database) -> None:
    with demo_db.read() as session:
        before = {u.code: u.id for u in list_units(session)}
    with demo_db.write() as session:
        result = load_bundled(session, "phu-nhuan")
    assert (result.created, result.updated) == (0, 17)
    with demo_db.read() as session:
        assert {u.code: u.id for u in list_units(session)} == before


def test_progress_reports_every_unit(db: Database) -> None:
    calls: list[tuple[int, int]] = []
    with db.write() as session:
        result = import_geojson(
            session, dataset_path("hcm-2025"), progress=lambda *c: calls.append(c)
        )
    assert (result.created, result.updated) == (4, 0)
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_children_may_come_before_their_parents(db: Database) -> None:
    data = collection(
        feature("3", "Ward", "ward", parent="2"),
        feature("2", "District", "district", parent="1"),
        feature("1", "City", "city", geometry=None),
    )
    with db.write() as session:
        import_geojson(session, data)
    with db.read() as session:
        city, ward = unit(session, "1"), unit(session, "3")
        assert ward.path.startswith(city.path) and ward.depth == 2
        assert city.boundary is None


def test_extra_and_collection_properties_go_to_attributes(db: Database) -> None:
    data = collection(
        feature("1", "City", "city", osm_relation_id=42, boundary="approximate"),
        attribution="© someone",
        license="CC0-1.0",
        title="not copied",
    )
    with db.write() as session:
        import_geojson(session, data)
    with db.read() as session:
        assert unit(session, "1").attributes == {
            "attribution": "© someone",
            "license": "CC0-1.0",
            "osm_relation_id": 42,
            "boundary": "approximate",
        }


def test_reimport_with_another_parent_moves_the_subtree(db: Database) -> None:
    tree = [
        feature("A", "First", "city"),
        feature("B", "Second", "city"),
        feature("D", "District", "district", parent="A"),
        feature("W", "Ward", "ward", parent="D"),
    ]
    with db.write() as session:
        import_geojson(session, collection(*tree))
    with db.write() as session:
        import_geojson(session, collection(feature("D", "District", "district", parent="B")))
    with db.read() as session:
        assert unit(session, "W").path.startswith(unit(session, "B").path)
        assert get_unit(session, unit(session, "D").id).parent_id == unit(session, "B").id


_SELF_CROSSING = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
_OPEN_RING = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}

BAD_FILES = {
    "not a collection": ({"type": "Feature"}, "expected a GeoJSON FeatureCollection"),
    "not a feature": (collection({"type": "Polygon"}), "feature 1 is not a GeoJSON Feature"),
    "self-crossing": (
        collection(
            feature("1", "City", "city"), feature("2", "X", "ward", geometry=_SELF_CROSSING)
        ),
        r"feature 2 \(X\): boundary: .*Self-intersection",
    ),
    "open ring": (
        collection(feature("1", "City", "city", geometry=_OPEN_RING)),
        "ring does not end where it starts",
    ),
    "point": (
        collection(feature("1", "City", "city", geometry={"type": "Point", "coordinates": [0, 0]})),
        "must be a Polygon or MultiPolygon",
    ),
    "lat/lon swapped": (
        collection(feature("1", "City", "city", geometry=square(10.7, 106.6))),
        "longitude, latitude",
    ),
    "no name": (collection(feature("1", "", "city")), "name: String should have at least 1"),
    "bad date": (collection(feature("1", "City", "city", valid_from="2020-13-01")), "valid_from"),
    "empty period": (
        collection(feature("1", "City", "city", valid_to="2019-01-01")),
        "valid_to must be after valid_from",
    ),
    "same key twice": (
        collection(feature("1", "City", "city"), feature("1", "Again", "city")),
        "more than one unit keyed 1 from 2020-01-01",
    ),
    "parent cycle": (
        collection(feature("1", "A", "city", parent="2"), feature("2", "B", "city", parent="1")),
        "cycle",
    ),
    "unknown parent": (
        collection(feature("1", "City", "city"), feature("2", "Ward", "ward", parent="9")),
        r"unit 2 \(Ward\): parent: no administrative unit with code 9",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_are_refused_and_nothing_is_written(db: Database, case: str) -> None:
    data, message = BAD_FILES[case]
    with db.write() as session:
        with pytest.raises(InvalidInput, match=message):
            import_geojson(session, data)
        assert count_units(session) == 0  # rolled back to before the import, session usable
        import_geojson(session, collection(feature("ok", "Fine", "city")))
    with db.read() as session:
        assert [u.code for u in list_units(session)] == ["ok"]


def test_unreadable_files_are_invalid_input(db: Database, tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    listed = tmp_path / "list.geojson"
    listed.write_text(json.dumps([1, 2]), encoding="utf-8")
    with db.write() as session:
        with pytest.raises(InvalidInput, match="is not JSON"):
            import_geojson(session, broken)
        with pytest.raises(InvalidInput, match="must be a JSON object"):
            import_geojson(session, listed)
        with pytest.raises(InvalidInput, match="cannot read"):
            import_geojson(session, tmp_path / "missing.geojson")
