"""Build the bundled street index (places/datasets/streets.json) from the main-roads extract.

    python scripts/build_streets.py [ROADS] [--out src/dothi/places/datasets/streets.json]

ROADS (default ../shared/data/places/phu_nhuan_roads_osm2018.geojson, OpenStreetMap, ODbL
1.0) holds the main-road ways of Phú Nhuận. A street is the ways sharing a name; it is
kept with a point on its longest way (halfway along) and the codes of the demo district's
wards (bundled phu-nhuan.geojson) it runs through. The output is deterministic.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "src" / "dothi" / "places" / "datasets"
DIGITS = 5  # about 1 m
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"


def build(roads: dict[str, Any], wards: dict[str, Any]) -> dict[str, Any]:
    """The street index document of a roads FeatureCollection."""
    ways: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for feature in roads["features"]:
        if feature["properties"].get("name"):
            ways[feature["properties"]["name"]].append(feature)
    areas = [
        (f["properties"]["code"], shape(f["geometry"]))
        for f in wards["features"]
        if f["properties"]["level"] == "ward"
    ]
    streets = []
    for name in sorted(ways):
        lines = [shape(f["geometry"]) for f in ways[name]]
        longest = max(lines, key=lambda line: line.length)
        point = longest.interpolate(0.5, normalized=True)
        whole = unary_union(lines)
        first = ways[name][0]["properties"]
        streets.append(
            {
                "name": name,
                "name_en": first.get("name_en"),
                "highway": first["highway"],
                "lon": round(point.x, DIGITS),
                "lat": round(point.y, DIGITS),
                "wards": sorted(code for code, area in areas if area.intersects(whole)),
            }
        )
    return {"attribution": ATTRIBUTION, "license": "ODbL-1.0", "streets": streets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "roads",
        nargs="?",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "places" / "phu_nhuan_roads_osm2018.geojson",
    )
    parser.add_argument("--out", type=Path, default=DATASETS / "streets.json")
    args = parser.parse_args()
    roads = json.loads(args.roads.read_text("utf-8"))
    wards = json.loads((DATASETS / "phu-nhuan.geojson").read_text("utf-8"))
    document = build(roads, wards)
    text = json.dumps(document, ensure_ascii=False, indent=1)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{len(document['streets'])} streets -> {args.out}")


if __name__ == "__main__":
    main()
