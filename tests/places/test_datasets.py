"""The bundled datasets: what they contain, and that scripts/build_places.py makes them."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType

import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dothi.db.engine import Database
from dothi.errors import NotFound
from dothi.places.boundaries import area_km2
from dothi.places.datasets import BUNDLED, dataset_path, load_bundled
from dothi.places.importer import parse_collection
from dothi.places.schemas import UnitIn
from dothi.places.service import list_units
from tests.places.helpers import DEMO_FROM, REFORM_FROM, count_units

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "data" / "places"

WARD_CODES = {
    "Phường 1": "27058", "Phường 2": "27061", "Phường 3": "27055", "Phường 4": "27043",
    "Phường 5": "27046", "Phường 7": "27052", "Phường 8": "27064", "Phường 9": "27049",
    "Phường 10": "27070", "Phường 11": "27073", "Phường 12": "27082", "Phường 13": "27085",
    "Phường 14": "27079", "Phường 15": "27067", "Phường 17": "27076",
}  # fmt: skip
OSM_WARDS = set(WARD_CODES) - {"Phường 15", "Phường 17"}


def _units(name: str) -> dict[str, UnitIn]:
    return {unit.name: unit for unit in parse_collection(dataset_path(name))}


def _shape(unit: UnitIn) -> BaseGeometry:
    assert unit.boundary is not None
    return shape(unit.boundary)


def test_names_of_the_bundled_datasets() -> None:
    assert BUNDLED == ("phu-nhuan", "hcm-2025")
    with pytest.raises(NotFound, match="phu-nhuan, hcm-2025"):
        dataset_path("atlantis")


def test_demo_tree_is_city_district_and_the_seeds_15_wards() -> None:
    units = _units("phu-nhuan")
    wards = {name: u.code for name, u in units.items() if u.level == "ward"}
    assert wards == WARD_CODES
    city, district = units["Thành phố Hồ Chí Minh"], units["Quận Phú Nhuận"]
    assert (city.code, city.level, city.parent, city.boundary) == ("79", "city", None, None)
    assert (district.code, district.level, district.parent) == ("768", "district", "79")
    assert all(u.parent == "768" for u in units.values() if u.level == "ward")
    assert {(u.valid_from, u.valid_to) for u in units.values()} == {(DEMO_FROM, None)}


def test_every_unit_carries_osm_attribution_and_licence() -> None:
    for name in BUNDLED:
        for unit in _units(name).values():
            assert unit.attributes["attribution"] == "© OpenStreetMap contributors"
            assert unit.attributes["license"] == "ODbL-1.0"
    notice = (dataset_path("phu-nhuan").parent / "LICENSE-DATA").read_text("utf-8")
    assert "Open Database License (ODbL) 1.0" in notice
    assert "© OpenStreetMap contributors" in notice


def test_populations_share_the_2019_census_total_and_say_they_are_estimates() -> None:
    units = _units("phu-nhuan")
    wards = [u for u in units.values() if u.level == "ward"]
    assert units["Quận Phú Nhuận"].population == 163_961
    assert not units["Quận Phú Nhuận"].population_estimated
    assert sum(u.population or 0 for u in wards) == 163_961
    assert all(u.population_estimated for u in wards)
    reform = [u for u in _units("hcm-2025").values() if u.level == "ward"]
    assert sum(u.population or 0 for u in reform) == 163_961


def test_wards_15_and_17_split_the_derived_polygon_and_are_approximate() -> None:
    units = _units("phu-nhuan")
    mapped = [_shape(u) for u in units.values() if u.level == "ward" and u.name in OSM_WARDS]
    derived = _shape(units["Quận Phú Nhuận"]).difference(shapely.union_all(mapped))
    ward_15, ward_17 = units["Phường 15"], units["Phường 17"]
    assert ward_15.attributes["boundary"] == ward_17.attributes["boundary"] == "approximate"
    together = area_km2(_shape(ward_15)) + area_km2(_shape(ward_17))
    assert together == pytest.approx(area_km2(derived), rel=0.001)
    assert 0.4 < _shape(ward_17).area / derived.area < 0.6
    assert _shape(ward_17).centroid.y > _shape(ward_15).centroid.y  # 17 is the northern part


@pytest.mark.parametrize("name", BUNDLED)
def test_wards_do_not_overlap_and_fill_the_district(name: str) -> None:
    wards = [_shape(u) for u in _units(name).values() if u.level == "ward"]
    for first, second in itertools.combinations(wards, 2):
        assert area_km2(first.intersection(second)) < 1e-6  # under one square metre
    district = _shape(_units("phu-nhuan")["Quận Phú Nhuận"])
    assert area_km2(shapely.union_all(wards).symmetric_difference(district)) < 1e-6


def test_reform_tree_reuses_old_codes_with_a_new_validity() -> None:
    units = _units("hcm-2025")
    assert {u.name: u.code for u in units.values()} == {
        "Thành phố Hồ Chí Minh": "79",
        "Phường Đức Nhuận": "27043",
        "Phường Cầu Kiệu": "27058",
        "Phường Phú Nhuận": "27073",
    }
    assert {u.level for u in units.values()} == {"province", "ward"}
    assert {u.valid_from for u in units.values()} == {REFORM_FROM}
    old = _units("phu-nhuan")
    cau_kieu = _shape(units["Phường Cầu Kiệu"])
    old_1_2_7 = shapely.union_all([_shape(old[f"Phường {n}"]) for n in (1, 2, 7)])
    assert area_km2(cau_kieu.symmetric_difference(old_1_2_7)) < 1e-6


def test_both_trees_load_next_to_each_other(db: Database) -> None:
    with db.write() as session:
        for name in BUNDLED:
            load_bundled(session, name)
    with db.read() as session:
        assert count_units(session) == 17 + 4
        wards = list_units(session, level="ward", at=REFORM_FROM)
        assert len(wards) == 15 + 3
        assert {u.name for u in list_units(session, parent="79", at=DEMO_FROM)} == {
            "Quận Phú Nhuận"
        }


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_places", REPO / "scripts/build_places.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SOURCE.is_dir(), reason=f"the OSM extracts are not at {SOURCE}")
def test_build_script_reproduces_the_bundled_files() -> None:
    built: dict[str, str] = _build_script().build(SOURCE)
    for file_name, text in built.items():
        assert dataset_path(file_name.removesuffix(".geojson")).read_text("utf-8") == text
