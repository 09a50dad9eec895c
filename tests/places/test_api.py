"""/api/v1/places: GeoJSON lists, one unit, point lookup, and validation errors."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.places.helpers import BEN_THANH, PHUONG_7

PLACES = "/api/v1/places"


def _get(client: TestClient, path: str = "", **params: Any) -> Any:
    response = client.get(PLACES + path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response.json()


def _names(collection: Any) -> list[str]:
    return [feature["properties"]["name"] for feature in collection["features"]]


def test_wards_as_a_feature_collection(client: TestClient) -> None:
    wards = _get(client, level="ward")
    assert wards["type"] == "FeatureCollection"
    assert len(wards["features"]) == 15
    first = wards["features"][0]
    assert first["type"] == "Feature" and uuid.UUID(first["id"])
    assert first["geometry"]["type"] == "Polygon"
    assert set(first["properties"]) == {
        "code", "name", "name_en", "level", "parent_id", "population",
        "population_estimated", "area_km2", "valid_from", "valid_to", "attributes",
    }  # fmt: skip
    assert {f["properties"]["parent_id"] for f in wards["features"]} == {
        _get(client, level="district")["features"][0]["id"]
    }


def test_filters(client: TestClient) -> None:
    district_id = _get(client, level="district")["features"][0]["id"]
    assert len(_get(client, parent="768")["features"]) == 15
    assert len(_get(client, parent=district_id)["features"]) == 15
    assert _names(_get(client, q="phuong 7")) == ["Phường 7"]
    assert _names(_get(client, q="Thanh pho Ho Chi Minh")) == ["Thành phố Hồ Chí Minh"]
    assert _get(client, at="2019-12-31")["features"] == []
    assert all(f["geometry"] is None for f in _get(client, geometry="false")["features"])
    pages = [_names(_get(client, limit=10, offset=offset)) for offset in (0, 10)]
    assert [len(page) for page in pages] == [10, 7]
    assert not set(pages[0]) & set(pages[1])


def test_one_place_by_id(client: TestClient) -> None:
    ward = _get(client, q="phuong 7")["features"][0]
    assert _get(client, f"/{ward['id']}") == ward
    assert _get(client, f"/{ward['id']}", geometry="false")["geometry"] is None


def test_unknown_or_malformed_id(client: TestClient) -> None:
    missing = client.get(f"{PLACES}/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get(f"{PLACES}/not-a-uuid").status_code == 422


def test_locate_gives_the_chain_of_units(client: TestClient) -> None:
    lon, lat = PHUONG_7
    chain = _get(client, "/locate", lon=lon, lat=lat, geometry="false")
    assert _names(chain) == ["Phường 7", "Quận Phú Nhuận", "Thành phố Hồ Chí Minh"]
    in_district = _get(client, "/locate", lon=lon, lat=lat, root="768")
    assert _names(in_district)[0] == "Phường 7"


def test_locate_outside_gives_no_features(client: TestClient) -> None:
    lon, lat = BEN_THANH
    assert _get(client, "/locate", lon=lon, lat=lat, root="768")["features"] == []


def test_invalid_queries_are_problems(client: TestClient) -> None:
    for params in ({"lon": 200, "lat": 10}, {"lat": 10}, {"lon": 1, "lat": 1, "at": "soon"}):
        response = client.get(f"{PLACES}/locate", params=params)
        assert response.status_code == 422, params
        assert response.json()["status"] == 422
    assert client.get(PLACES, params={"limit": 0}).status_code == 422
    unknown_root = client.get(f"{PLACES}/locate", params={"lon": 1, "lat": 1, "root": "999"})
    assert unknown_root.status_code == 404
    assert "999" in unknown_root.json()["detail"]
