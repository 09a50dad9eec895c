"""Build the bundled main roads (places/datasets/phu-nhuan-roads.geojson) from the extract.

    python scripts/build_roads.py [ROADS] [--out src/dothi/places/datasets/phu-nhuan-roads.geojson]

ROADS (default ../shared/data/places/phu_nhuan_roads_osm2018.geojson, OpenStreetMap, ODbL
1.0) holds the 90 main-road ways of Phú Nhuận. Each way keeps its OSM id, name and class,
its coordinates rounded to about 10 cm: the lines camera coverage is measured on. The
output is deterministic.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIGITS = 6
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"


def build(roads: dict[str, Any]) -> dict[str, Any]:
    """The bundled document of a roads FeatureCollection."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "osm_way_id": f["properties"]["osm_way_id"],
                "name": f["properties"].get("name"),
                "highway": f["properties"]["highway"],
            },
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [round(lon, DIGITS), round(lat, DIGITS)]
                    for lon, lat in f["geometry"]["coordinates"]
                ],
            },
        }
        for f in sorted(roads["features"], key=lambda f: f["properties"]["osm_way_id"])
    ]
    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "license": "ODbL-1.0",
        "features": features,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "roads",
        nargs="?",
        type=Path,
        default=ROOT.parent / "shared/data/places/phu_nhuan_roads_osm2018.geojson",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "src/dothi/places/datasets/phu-nhuan-roads.geojson",
    )
    arguments = parser.parse_args()
    document = build(json.loads(arguments.roads.read_text(encoding="utf-8")))
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    arguments.out.write_text(text + "\n", encoding="utf-8")
    print(f"{len(document['features'])} ways -> {arguments.out}")


if __name__ == "__main__":
    main()
