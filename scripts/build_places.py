"""Build the bundled places datasets from the OpenStreetMap extracts of Phú Nhuận.

    python scripts/build_places.py [SOURCE_DIR] [--out src/dothi/places/datasets]

SOURCE_DIR (default ../shared/data/places) holds phu_nhuan_wards_osm2018.geojson and
phu_nhuan_district_osm2018.geojson. The output is deterministic: running the script again
on the same input rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from itertools import pairwise
from math import dist, isclose
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from dothi.places.boundaries import area_km2, check_boundary

ROOT = Path(__file__).resolve().parent.parent
GRID = 1e-7  # degrees, about 1 cm: the precision of the OSM extract
DISTRICT_POPULATION_2019 = 163_961  # census of 1 April 2019, Quận Phú Nhuận
ATTRIBUTION = "© OpenStreetMap contributors"
LICENSE = "ODbL-1.0"
LICENSE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
DEMO_FROM = "2020-01-01"
REFORM_FROM = "2025-07-01"
OSM_KEYS = ("source", "osm_relation_id", "osm_version", "osm_timestamp")

HISTORY = [
    "Until 2020: 15 wards (1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17).",
    "From 2021-02-01: 13 wards (12 and 14 merged into others).",
    "From 2025-01-01: 11 wards (1, 2, 4, 5, 7, 8, 9, 10, 11, 13, 15).",
    "From 2025-07-01 (two-tier local government, NQ 1685/NQ-UBTVQH15): no district; its area "
    "lies in the wards Đức Nhuận, Cầu Kiệu and Phú Nhuận of Ho Chi Minh City "
    "(see the hcm-2025 dataset).",
]
DEMO_NOTE = (
    "Demo data: the seeds' 15-ward tree (Quận Phú Nhuận as in decision 752/QĐ-UBND, 2020) is "
    "kept current on purpose (valid from 2020-01-01, no end), although the real tree changed "
    "since; see `history`. Ward populations are estimates: the 2019 census total of the "
    "district shared by area."
)
APPROXIMATE_15_17 = (
    "OSM (2018) had no boundaries for wards 15 and 17: their combined area is the district minus "
    "the 13 mapped wards, cut here across its long axis along the equal-area line moved to the "
    "nearest boundary vertices (north-west part: Phường 17, south-east part: Phường 15). "
    "The real line differs."
)

# Wards of July 2025 and the pre-2021 wards of Phú Nhuận whose area they took over.
REFORM_WARDS = (
    ("27043", "Phường Đức Nhuận", "Duc Nhuan Ward", ("3", "4", "5", "9")),
    ("27058", "Phường Cầu Kiệu", "Cau Kieu Ward", ("1", "2", "7")),
    (
        "27073",
        "Phường Phú Nhuận",
        "Phu Nhuan Ward",
        ("8", "10", "11", "12", "13", "14", "15", "17"),
    ),
)
REFORM_NOTE = (
    "Union of the 2018 OSM boundaries of the old wards it took over; the real ward also "
    "differs by small slivers at the edges of the old district."
)


def _clean(geometry: BaseGeometry) -> BaseGeometry:
    """Valid, on the coordinate grid, exterior rings counter-clockwise (RFC 7946)."""
    snapped = shapely.set_precision(shapely.make_valid(geometry), GRID)
    return shapely.orient_polygons(snapped)


def _geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON with coordinates rounded to the grid, checked like an import would."""
    rounded = json.loads(json.dumps(mapping(geometry)), parse_float=lambda x: round(float(x), 7))
    check_boundary(rounded)
    return dict(rounded)


def _halves(polygon: Polygon) -> tuple[Polygon, Polygon]:
    """Cut a polygon across its long axis into a northern and a southern part.

    The cut is the equal-area line perpendicular to the long axis, with its ends moved to the
    nearest vertices of the boundary: the parts then share only existing vertices with the
    neighbouring wards, so no overlap or gap appears (and the areas stay within a few percent).
    """
    corners = list(polygon.minimum_rotated_rectangle.exterior.coords)
    (x0, y0), (x1, y1) = max(pairwise(corners[:3]), key=lambda e: dist(*e))
    length = dist((x0, y0), (x1, y1))
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    if uy < 0:  # let the axis point north
        ux, uy = -ux, -uy
    centre = polygon.centroid

    def cut(offset: float) -> tuple[LineString, Polygon]:
        """The cut line at `offset` along the axis, and the half-plane north of it."""
        mx, my = centre.x + offset * ux, centre.y + offset * uy
        ends = [(mx - length * uy, my + length * ux), (mx + length * uy, my - length * ux)]
        beyond = [(x + length * ux, y + length * uy) for x, y in reversed(ends)]
        return LineString(ends), Polygon([*ends, *beyond])

    low, high = -length / 2, length / 2
    for _ in range(60):  # bisection: the northern part shrinks as the cut moves north
        middle = (low + high) / 2
        north_area = polygon.intersection(cut(middle)[1]).area
        low, high = (middle, high) if north_area > polygon.area / 2 else (low, middle)
    line = cut((low + high) / 2)[0]
    crossings = list(line.intersection(polygon.exterior).geoms)
    ring = list(polygon.exterior.coords)[:-1]
    first, last = sorted(
        min(range(len(ring)), key=lambda k: dist(ring[k], (point.x, point.y)))
        for point in (crossings[0], crossings[-1])
    )
    parts = Polygon(ring[first : last + 1]), Polygon(ring[last:] + ring[: first + 1])
    covered = sum(part.area for part in parts)
    if not all(part.is_valid for part in parts) or not isclose(covered, polygon.area, rel_tol=1e-9):
        raise ValueError("the cut leaves the polygon: pick another line")
    north, south = sorted(parts, key=lambda part: -(part.centroid.x * ux + part.centroid.y * uy))
    return north, south


def _shares(areas: Mapping[str, float], total: int) -> dict[str, int]:
    """`total` shared in proportion to `areas`, rounded so that the parts add up exactly."""
    whole = sum(areas.values())
    exact = {key: total * area / whole for key, area in areas.items()}
    shares = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: exact[key] - shares[key], reverse=True)
    for key in by_remainder[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def _feature(geometry: BaseGeometry | None, **properties: Any) -> dict[str, Any]:
    if geometry is not None:
        properties["area_km2"] = round(area_km2(geometry), 4)
    return {
        "type": "Feature",
        "geometry": None if geometry is None else _geojson(geometry),
        "properties": properties,
    }


def _collection(name: str, title: str, features: list[dict[str, Any]], **extra: Any) -> str:
    header = {
        "type": "FeatureCollection",
        "name": name,
        "title": title,
        "attribution": ATTRIBUTION,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        **extra,
    }
    head = json.dumps(header, ensure_ascii=False)[:-1]
    lines = ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features)
    return f'{head}, "features": [\n{lines}\n]}}\n'


def _number(name: str) -> str:
    return name.removeprefix("Phường ")


def build(source: Path) -> dict[str, str]:
    """The bundled datasets, by file name, from the OSM extracts in `source`."""
    wards_file = json.loads((source / "phu_nhuan_wards_osm2018.geojson").read_text("utf-8"))
    district_file = json.loads((source / "phu_nhuan_district_osm2018.geojson").read_text("utf-8"))
    district = district_file["features"][0]

    wards: dict[str, tuple[BaseGeometry, dict[str, Any]]] = {}
    for feature in wards_file["features"]:
        props = feature["properties"]
        geometry = _clean(shape(feature["geometry"]))
        if not props["derived"]:
            osm = {key: props[key] for key in OSM_KEYS}
            wards[_number(props["name"])] = (
                geometry,
                {"code": props["code"], "name_en": props["name_en"], "boundary": "osm", **osm},
            )
            continue
        north, south = (_clean(half) for half in _halves(shape(feature["geometry"])))
        for number, half, code in (("17", north, "27076"), ("15", south, "27067")):
            wards[number] = (
                half,
                {
                    "code": code,
                    "name_en": f"Ward {number}",
                    "boundary": "approximate",
                    "boundary_note": APPROXIMATE_15_17,
                    "source": props["source"],
                },
            )
    order = sorted(wards, key=int)
    population = _shares({n: area_km2(wards[n][0]) for n in order}, DISTRICT_POPULATION_2019)

    city = _feature(
        None,
        code="79",
        name="Thành phố Hồ Chí Minh",
        name_en="Ho Chi Minh City",
        level="city",
        parent=None,
        valid_from=DEMO_FROM,
        valid_to=None,
        boundary="none",
        boundary_note="Not in this dataset, which covers Quận Phú Nhuận only.",
    )
    district_props = district["properties"]
    district_feature = _feature(
        _clean(shape(district["geometry"])),
        code="768",
        name="Quận Phú Nhuận",
        name_en="Phu Nhuan District",
        level="district",
        parent="79",
        valid_from=DEMO_FROM,
        valid_to=None,
        population=DISTRICT_POPULATION_2019,
        population_estimated=False,
        population_source="2019 census",
        boundary="osm",
        **{key: district_props[key] for key in OSM_KEYS},
    )
    ward_features = [
        _feature(
            wards[n][0],
            name=f"Phường {n}",
            level="ward",
            parent="768",
            valid_from=DEMO_FROM,
            valid_to=None,
            population=population[n],
            population_estimated=True,
            population_source="2019 census total of the district shared by area",
            **wards[n][1],
        )
        for n in order
    ]
    phu_nhuan = _collection(
        "phu-nhuan",
        "Quận Phú Nhuận, Thành phố Hồ Chí Minh: the seeds' 15 wards",
        [city, district_feature, *ward_features],
        note=DEMO_NOTE,
        history=HISTORY,
    )

    province = _feature(
        None,
        code="79",
        name="Thành phố Hồ Chí Minh",
        name_en="Ho Chi Minh City",
        level="province",
        parent=None,
        valid_from=REFORM_FROM,
        valid_to=None,
        legal_basis="NQ 1685/NQ-UBTVQH15",
        boundary="none",
        boundary_note="Not in this dataset, which covers the old Quận Phú Nhuận only.",
    )
    reform_features = [
        _feature(
            _clean(shapely.union_all([wards[n][0] for n in old])),
            code=code,
            name=name,
            name_en=name_en,
            level="ward",
            parent="79",
            valid_from=REFORM_FROM,
            valid_to=None,
            population=sum(population[n] for n in old),
            population_estimated=True,
            population_source="sum of the estimates of the old wards (see phu-nhuan)",
            legal_basis="NQ 1685/NQ-UBTVQH15",
            formed_from=[f"Phường {n}" for n in old],
            boundary="approximate",
            boundary_note=REFORM_NOTE
            + (
                " Includes the old wards 15 and 17, whose line is itself approximate."
                if "15" in old
                else ""
            ),
        )
        for code, name, name_en, old in REFORM_WARDS
    ]
    hcmc = _collection(
        "hcm-2025",
        "Ho Chi Minh City after 1 July 2025: province -> wards (old Phú Nhuận area)",
        [province, *reform_features],
        note="Two-level example (province -> ward) proving that the hierarchy is data.",
    )
    return {"phu-nhuan.geojson": phu_nhuan, "hcm-2025.geojson": hcmc}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=ROOT.parent / "shared/data/places")
    parser.add_argument("--out", type=Path, default=ROOT / "src/dothi/places/datasets")
    args = parser.parse_args()
    for name, text in build(args.source).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name} ({len(text.encode()) // 1024} KiB)")


if __name__ == "__main__":
    main()
