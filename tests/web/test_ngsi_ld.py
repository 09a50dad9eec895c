"""NGSI-LD over HTTP on both backends: entities, batches, queries, temporal, subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dothi.db.engine import Database
from dothi.telemetry.models import Entity, Observation, SubscriptionNotification
from tests.telemetry.helpers import WARD_7, integration_key

BASE = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def station(local: str, pm25: float, minutes: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:{local}",
        "type": "AirQualityObserved",
        "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        "name": {"type": "Property", "value": f"Trạm {local}"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": list(WARD_7)},
        },
        "pm25": {"type": "Property", "value": pm25, "observedAt": _at(minutes), "unitCode": "GQ"},
        **extra,
    }


@pytest.fixture
def key(demo_db: Database) -> dict[str, str]:
    return {"X-API-Key": integration_key(demo_db)}


def _ld(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/ld+json", "Accept": "application/ld+json"}


def test_an_entity_is_created_read_changed_and_deleted(
    client: TestClient, key: dict[str, str], demo_db: Database
) -> None:
    created = client.post(f"{BASE}/entities", json=station("s1", 41.5), headers=_ld(key))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:s1"
    again = client.post(f"{BASE}/entities/", json=station("s1", 41.5), headers=_ld(key))
    assert again.status_code == 409
    assert again.json()["type"] == ERRORS + "AlreadyExists"

    url = f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:s1"
    got = client.get(url, headers=_ld(key))
    assert got.headers["content-type"].startswith("application/ld+json")
    body = got.json()
    assert body["pm25"] == {
        "type": "Property",
        "value": 41.5,
        "observedAt": _at(0),
        "unitCode": "GQ",
    }
    assert body["location"]["type"] == "GeoProperty" and "@context" in body
    simple = client.get(url, params={"options": "keyValues", "attrs": "pm25,name"}, headers=key)
    assert simple.json() == {
        "id": "urn:ngsi-ld:AirQualityObserved:s1",
        "type": "AirQualityObserved",
        "pm25": 41.5,
        "name": "Trạm s1",
    }
    assert "rel=" in simple.headers["link"]

    appended = client.post(
        f"{url}/attrs",
        json={"pm25": {"type": "Property", "value": 50, "observedAt": _at(10)}, "no2": 7},
        params={"options": "noOverwrite"},
        headers=key,
    )
    assert appended.status_code == 207
    assert appended.json()["notUpdated"][0]["attributeName"] == "pm25"
    assert appended.json()["updated"] == ["no2"]
    patch = {"name": "Đổi", "noise": "x", "pm25": {"value": 50, "observedAt": _at(10)}}
    patched = client.patch(f"{url}/attrs", json=patch, headers=key)
    assert patched.status_code == 207
    assert [n["attributeName"] for n in patched.json()["notUpdated"]] == ["noise"]
    latest = client.get(url, params={"options": "keyValues"}, headers=key).json()
    assert (latest["pm25"], latest["no2"], latest["name"]) == (50, 7, "Đổi")

    assert client.delete(url, headers=key).status_code == 204
    gone = client.get(url, headers=key)
    assert gone.status_code == 404 and gone.json()["type"] == ERRORS + "ResourceNotFound"
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 0


def test_batches_report_each_failure(client: TestClient, key: dict[str, str]) -> None:
    ops = f"{BASE}/entityOperations"
    created = client.post(f"{ops}/create", json=[station("a", 10), station("b", 20)], headers=key)
    assert (created.status_code, sorted(created.json())) == (
        201,
        ["urn:ngsi-ld:AirQualityObserved:a", "urn:ngsi-ld:AirQualityObserved:b"],
    )
    mixed = client.post(
        f"{ops}/create", json=[station("c", 5), station("a", 1), {"id": "bad"}], headers=key
    )
    assert mixed.status_code == 207
    assert mixed.json()["success"] == ["urn:ngsi-ld:AirQualityObserved:c"]
    kinds = {e["entityId"]: e["error"]["type"] for e in mixed.json()["errors"]}
    assert kinds == {
        "urn:ngsi-ld:AirQualityObserved:a": ERRORS + "AlreadyExists",
        "bad": ERRORS + "BadRequestData",
    }

    # Upsert replaces by default (name dropped), merges with options=update.
    bare = {k: v for k, v in station("a", 12, 5).items() if k != "name"}
    assert client.post(f"{ops}/upsert", json=[bare], headers=key).status_code == 204
    fresh = client.post(f"{ops}/upsert/", json=[station("d", 1)], headers=key)
    assert (fresh.status_code, fresh.json()) == (201, ["urn:ngsi-ld:AirQualityObserved:d"])
    merged = {"id": "urn:ngsi-ld:AirQualityObserved:b", "type": "AirQualityObserved", "so2": 3}
    upsert = client.post(f"{ops}/upsert", json=[merged], params={"options": "update"}, headers=key)
    assert upsert.status_code == 204
    found = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "options": "keyValues"},
        headers=key,
    ).json()
    by_id = {e["id"].rsplit(":", 1)[1]: e for e in found}
    assert "name" not in by_id["a"] and by_id["a"]["pm25"] == 12
    assert by_id["b"]["name"] == "Trạm b" and by_id["b"]["so2"] == 3

    update = client.post(f"{ops}/update", json=[merged, station("zz", 1)], headers=key)
    assert update.status_code == 207 and update.json()["errors"][0]["error"]["status"] == 404
    deleted = client.post(
        f"{ops}/delete", json=["urn:ngsi-ld:AirQualityObserved:c", "urn:x:y"], headers=key
    )
    assert deleted.status_code == 207 and deleted.json()["success"] == [
        "urn:ngsi-ld:AirQualityObserved:c"
    ]


def test_queries_filter_count_and_page(client: TestClient, key: dict[str, str]) -> None:
    far = station(
        "far",
        99,
        location={
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [106.75, 10.85]},
        },
    )
    entities = [station(f"s{n}", n * 10) for n in range(5)] + [far]
    assert (
        client.post(f"{BASE}/entityOperations/create", json=entities, headers=key).status_code
        == 201
    )

    def ids(**params: Any) -> list[str]:
        answer = client.get(f"{BASE}/entities", params=params, headers=key)
        assert answer.status_code == 200, answer.text
        return [e["id"].rsplit(":", 1)[1] for e in answer.json()]

    assert ids(type="AirQualityObserved", q="pm25>=20;pm25<40") == ["s2", "s3"]
    assert ids(type="AirQualityObserved", idPattern="s[13]$") == ["s1", "s3"]
    assert ids(type="AirQualityObserved", limit=2, offset=1) == ["s0", "s1"]
    near = {
        "georel": "near;maxDistance==2000",
        "geometry": "Point",
        "coordinates": f"[{WARD_7[0]},{WARD_7[1]}]",
    }
    assert (
        "far" not in ids(type="AirQualityObserved", **near)
        and len(ids(type="AirQualityObserved", **near)) == 5
    )
    assert ids(id="urn:ngsi-ld:AirQualityObserved:far,urn:ngsi-ld:AirQualityObserved:s4") == [
        "far",
        "s4",
    ]
    counted = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "q": "pm25>15", "limit": 0, "count": "true"},
        headers=key,
    )
    assert (counted.json(), counted.headers["NGSILD-Results-Count"]) == ([], "4")
    for params in (
        {"q": "pm25>"},
        {"limit": 5000},
        {"georel": "within", "geometry": "Point", "coordinates": "[1,1]"},
        {"options": "bogus"},
    ):
        refused = client.get(f"{BASE}/entities", params={"type": "X", **params}, headers=key)
        assert (refused.status_code, refused.json()["type"]) == (400, ERRORS + "BadRequestData")


def test_temporal_history_and_aggregates(client: TestClient, key: dict[str, str]) -> None:
    url = f"{BASE}/entities"
    assert client.post(url, json=station("t", 10, 0), headers=key).status_code == 201
    for minutes, value in ((20, 20), (40, 30), (70, 40), (130, 50)):
        attrs = {"pm25": {"type": "Property", "value": value, "observedAt": _at(minutes)}}
        assert (
            client.post(
                f"{url}/urn:ngsi-ld:AirQualityObserved:t/attrs", json=attrs, headers=key
            ).status_code
            == 204
        )
    temporal = f"{BASE}/temporal/entities/urn:ngsi-ld:AirQualityObserved:t"
    history = client.get(temporal, headers=key).json()
    assert [i["value"] for i in history["pm25"]] == [10, 20, 30, 40, 50]
    assert "name" not in history
    between = {
        "timerel": "between",
        "timeAt": _at(20),
        "endTimeAt": _at(130),
        "options": "temporalValues",
    }
    assert client.get(temporal, params=between, headers=key).json()["pm25"]["values"] == [
        [20, _at(20)],
        [30, _at(40)],
        [40, _at(70)],
    ]
    last = client.get(
        temporal, params={"lastN": 2, "timerel": "before", "timeAt": _at(131)}, headers=key
    ).json()
    assert [i["value"] for i in last["pm25"]] == [40, 50]

    hourly = {
        "options": "aggregatedValues",
        "aggrMethods": "avg,max,totalCount",
        "aggrPeriodDuration": "PT1H",
        "timerel": "after",
        "timeAt": _at(0),
    }
    rolled = client.get(temporal, params=hourly, headers=key).json()["pm25"]
    assert rolled["avg"] == [
        [20.0, _at(0), _at(60)],
        [40.0, _at(60), _at(120)],
        [50.0, _at(120), _at(180)],
    ]
    assert [c[0] for c in rolled["totalCount"]] == [3, 1, 1]
    fine = {**hourly, "aggrPeriodDuration": "PT30M", "aggrMethods": "sum,min"}
    raw = client.get(temporal, params=fine, headers=key).json()["pm25"]
    assert raw["sum"] == [
        [30.0, _at(0), _at(30)],
        [30.0, _at(30), _at(60)],
        [40.0, _at(60), _at(90)],
        [50.0, _at(120), _at(150)],
    ]
    many = client.get(
        f"{BASE}/temporal/entities",
        params={
            "type": "AirQualityObserved",
            "count": "true",
            "timerel": "before",
            "timeAt": _at(30),
        },
        headers=key,
    )
    assert many.headers["NGSILD-Results-Count"] == "1" and len(many.json()[0]["pm25"]) == 2
    for params in (
        {"timerel": "between", "timeAt": _at(10)},
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "P1M"},
    ):
        assert client.get(temporal, params=params, headers=key).status_code == 400


def test_subscriptions_queue_matching_changes(
    client: TestClient, key: dict[str, str], demo_db: Database
) -> None:
    subscription = {
        "id": "urn:ngsi-ld:Subscription:high-pm25",
        "type": "Subscription",
        "entities": [{"type": "AirQualityObserved"}],
        "watchedAttributes": ["pm25"],
        "q": "pm25>35",
        "notification": {
            "attributes": ["pm25"],
            "format": "keyValues",
            "endpoint": {"uri": "http://127.0.0.1:9/notify"},
        },
    }
    created = client.post(f"{BASE}/subscriptions", json=subscription, headers=key)
    assert created.status_code == 201, created.text
    assert client.post(f"{BASE}/subscriptions", json=subscription, headers=key).status_code == 409
    client.post(
        f"{BASE}/entityOperations/create",
        json=[station("low", 10), station("high", 50)],
        headers=key,
    )
    with demo_db.read() as session:
        payloads = [n.payload for n in session.scalars(select(SubscriptionNotification))]
    assert len(payloads) == 1
    assert payloads[0]["data"] == [
        {"id": "urn:ngsi-ld:AirQualityObserved:high", "type": "AirQualityObserved", "pm25": 50}
    ]
    url = f"{BASE}/subscriptions/urn:ngsi-ld:Subscription:high-pm25"
    assert client.patch(url, json={"isActive": False}, headers=key).status_code == 204
    shown = client.get(url, headers=key).json()
    assert (shown["status"], shown["notification"]["timesSent"]) == ("paused", 0)
    assert [s["id"] for s in client.get(f"{BASE}/subscriptions", headers=key).json()] == [
        subscription["id"]
    ]
    assert (
        client.post(f"{BASE}/subscriptions", json={"type": "Subscription"}, headers=key).status_code
        == 400
    )
    assert client.delete(url, headers=key).status_code == 204
    assert client.get(url, headers=key).status_code == 404


def test_every_error_is_ngsi_ld_problem_details(client: TestClient, key: dict[str, str]) -> None:
    anonymous = client.get(f"{BASE}/entities", params={"type": "AirQualityObserved"})
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/json"
    unknown = client.get(f"{BASE}/nothing", headers=key)
    assert unknown.json()["type"] == ERRORS + "ResourceNotFound"
    not_allowed = client.put(f"{BASE}/entities", headers=key)
    assert not_allowed.json()["type"] == ERRORS + "OperationNotSupported"
    broken = client.post(
        f"{BASE}/entities", content=b"{", headers={**key, "Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json()["type"]) == (400, ERRORS + "BadRequestData")
    bad_value = client.post(f"{BASE}/entities", json=station("x", -5), headers=key)
    assert bad_value.status_code == 400 and "pm25" in bad_value.json()["detail"]


def test_keys_are_limited_to_their_wards_and_types(client: TestClient, demo_db: Database) -> None:
    from dothi.accounts.apikeys import create_api_key
    from dothi.accounts.permissions import SYSTEM, Role
    from dothi.accounts.schemas import ApiKeyCreate
    from dothi.places.models import AdminUnit
    from tests.accounts.helpers import add_user

    with demo_db.write() as session:
        ward_2 = session.scalars(select(AdminUnit).where(AdminUnit.name == "Phường 2")).one()
        user = add_user(session, "ward2-feed", Role.INTEGRATION, None, [ward_2.id])
        secret = create_api_key(
            session,
            SYSTEM,
            user.id,
            ApiKeyCreate(name="w2", entity_types=["AirQualityObserved"]),
            _clock(),
        ).secret
    limited = {"X-API-Key": secret}
    outside = client.post(f"{BASE}/entities", json=station("w7", 1), headers=limited)
    assert outside.status_code == 403
    other_type = {"id": "urn:ngsi-ld:Streetlight:l1", "type": "Streetlight"}
    assert client.post(f"{BASE}/entities", json=other_type, headers=limited).status_code == 403
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Entity)) == 0


def _clock() -> Any:
    from dothi.core.clock import SystemClock

    return SystemClock()
