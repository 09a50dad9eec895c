"""/api/v1/places: administrative units as GeoJSON, and point -> unit lookup."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from dothi.core.clock import local_date
from dothi.places import lookup, service
from dothi.places.roads import roads_document
from dothi.places.schemas import PlaceCollection, PlaceFeature
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


router = APIRouter(
    prefix="/api/v1/places",
    tags=["places"],
    dependencies=[require("places:read")],
    default_response_class=GeoJSONResponse,
)

At = Annotated[
    date | None,
    Query(description="Only units existing on this day (default: today, local time)."),
]
Geometry = Annotated[bool, Query(description="Include the boundaries (false: properties only).")]
IdOrCode = Annotated[
    str | None, Query(max_length=40, description="Unit id, or official code (valid on `at`).")
]


def _id_or_code(value: str) -> uuid.UUID | str:
    try:
        return uuid.UUID(value)
    except ValueError:
        return value


@router.get("")
def list_places(
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    level: Annotated[str | None, Query(max_length=30, description="e.g. ward")] = None,
    parent: IdOrCode = None,
    at: At = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Name, ignoring case and diacritics.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
    geometry: Geometry = True,
) -> PlaceCollection:
    """Administrative units, shallowest first, as a GeoJSON FeatureCollection."""
    units = service.list_units(
        session,
        level=level,
        parent=None if parent is None else _id_or_code(parent),
        at=at or local_date(clock.now(), settings.timezone),
        q=q,
        limit=limit,
        offset=offset,
    )
    return PlaceCollection.of(units, geometry=geometry)


@router.get("/roads", response_model=None)
def main_roads() -> dict[str, Any]:
    """The main roads of the demo district (OpenStreetMap, ODbL 1.0: show the attribution):
    drawn on the maps when no tiles load, and the lines camera coverage is measured on."""
    return roads_document()


@router.get("/locate")
def locate_place(
    session: ReadSession,
    settings: SettingsDep,
    clock: ClockDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, WGS 84")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, WGS 84")],
    at: At = None,
    root: IdOrCode = None,
    geometry: Geometry = True,
) -> PlaceCollection:
    """The unit covering the point and its ancestors, deepest first; no features outside.

    `root` (default: the deployment's root unit, if set) restricts the answer to one tree.
    """
    day = at or local_date(clock.now(), settings.timezone)
    root_key = root or settings.root_unit
    root_id = None
    if root_key is not None:
        root_id = service.unit_by_id_or_code(session, _id_or_code(root_key), day).id
    chain = lookup.locate_chain(session, lon, lat, day, root=root_id)
    return PlaceCollection.of(chain, geometry=geometry)


@router.get("/{unit_id}")
def get_place(session: ReadSession, unit_id: uuid.UUID, geometry: Geometry = True) -> PlaceFeature:
    """One administrative unit, whatever its validity period, as a GeoJSON Feature."""
    return PlaceFeature.of(service.get_unit(session, unit_id), geometry=geometry)
