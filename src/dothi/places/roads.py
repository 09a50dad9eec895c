"""The main roads of the demo district, bundled (OpenStreetMap, ODbL 1.0): the lines camera
coverage is measured on. Built by scripts/build_roads.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

Coordinates = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Road:
    """One OpenStreetMap way: its id, name (None for unnamed links), class and line."""

    osm_way_id: int
    name: str | None
    highway: str
    line: Coordinates


@cache
def roads_document() -> dict[str, Any]:
    """The bundled GeoJSON FeatureCollection of the main roads, with its attribution."""
    path = files("dothi.places.datasets").joinpath("phu-nhuan-roads.geojson")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@cache
def main_roads() -> tuple[Road, ...]:
    """The 90 trunk to tertiary ways of Phú Nhuận, clipped to the district + 25 m."""
    document = roads_document()
    return tuple(
        Road(
            f["properties"]["osm_way_id"],
            f["properties"]["name"],
            f["properties"]["highway"],
            tuple((lon, lat) for lon, lat in f["geometry"]["coordinates"]),
        )
        for f in document["features"]
    )
