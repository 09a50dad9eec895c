"""/api/v1/alarm-webhooks and /api/v1/me/notification-preferences: managed by area, refused
readably, the secret shown once, a signed test message; one's own e-mail preference."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dothi.alarms.delivery_models import AlarmWebhook
from dothi.config import Settings
from dothi.db.engine import Database
from dothi.places.models import AdminUnit
from dothi.web.app import create_app
from tests.accounts.helpers import Town
from tests.alarms.test_notifications import Receiver, receiving
from tests.web.helpers import login

ROUTES = "/api/v1/alarm-webhooks"
HOOK = {"name": "IOC thành phố", "url": "https://ioc.example.vn/dothi/alarms"}


@pytest.fixture
def client(settings: Settings, demo_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=demo_db)) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def _ward_code(db: Database, town: Town, name: str) -> str:
    with db.read() as session:
        code = session.scalar(select(AdminUnit.code).where(AdminUnit.id == town.wards[name]))
    assert code is not None
    return code


def _create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/alarm-webhooks", json={**HOOK, **fields}, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_a_webhook_is_created_with_its_secret_shown_once_then_read_replaced_and_removed(
    client: TestClient, settings: Settings, town: Town, demo_db: Database
) -> None:
    headers = login(client, settings, "admin")
    created = _create(client, headers, format="cap", min_severity="warning")
    assert len(created["secret"]) >= 40
    assert created["wards"] == ["*"] and "cleared" in created["kinds"]
    path = f"/api/v1/alarm-webhooks/{created['id']}"
    read = client.get(path).json()
    assert "secret" not in read and read["format"] == "cap" and read["created_by"] == "admin"
    assert [hook["id"] for hook in client.get("/api/v1/alarm-webhooks").json()] == [created["id"]]
    changed = {**HOOK, "url": "http://10.0.0.5:8080/cap", "kinds": ["raised", "escalated"]}
    replaced = client.put(path, json=changed, headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["url"], replaced.json()["format"]) == (
        "http://10.0.0.5:8080/cap",
        "json",
    )
    assert "secret" not in replaced.json()
    with demo_db.read() as session:
        assert session.get_one(AlarmWebhook, uuid.UUID(created["id"])).secret == created["secret"]
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"url": "ftp://ioc.example.vn/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://" + "a" * 2000 + ".vn"}, "url"),
        ({"url": "https://x.vn?" + "a" * 1987}, "2000 characters"),  # 2001 once normalised
        ({"wards": ["99999"]}, "99999"),
        ({"wards": []}, "wards"),
        ({"kinds": ["exploded"]}, "kinds"),
        ({"format": "xml"}, "format"),
        ({"min_severity": "panic"}, "min_severity"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_an_invalid_webhook_is_refused_saying_what_is_wrong(
    client: TestClient, settings: Settings, town: Town, change: dict[str, Any], words: str
) -> None:
    headers = login(client, settings, "admin")
    answer = client.post("/api/v1/alarm-webhooks", json={**HOOK, **change}, headers=headers)
    assert answer.status_code == 422, answer.text
    assert words in json.dumps(answer.json())
    assert client.get("/api/v1/alarm-webhooks").json() == []


def test_webhooks_are_managed_within_ones_area(
    client: TestClient, settings: Settings, town: Town, demo_db: Database
) -> None:
    city_wide = _create(client, login(client, settings, "admin"))
    officer = login(client, settings, "officer.p2")
    assert client.post("/api/v1/alarm-webhooks", json=HOOK, headers=officer).status_code == 403
    leader = login(client, settings, "leader.p2")
    ward_2 = _ward_code(demo_db, town, "Phường 2")
    ward_7 = _ward_code(demo_db, town, "Phường 7")
    refused = client.post("/api/v1/alarm-webhooks", json=HOOK, headers=leader)  # every ward
    assert refused.status_code == 403 and "outside your area" in refused.json()["detail"]
    elsewhere = client.post(
        "/api/v1/alarm-webhooks", json={**HOOK, "wards": [ward_7]}, headers=leader
    )
    assert elsewhere.status_code == 403
    own = _create(client, leader, wards=[ward_2])
    assert [hook["id"] for hook in client.get("/api/v1/alarm-webhooks").json()] == [own["id"]]
    assert client.get(f"/api/v1/alarm-webhooks/{city_wide['id']}").status_code == 403
    gone = client.delete(f"/api/v1/alarm-webhooks/{city_wide['id']}", headers=leader)
    assert gone.status_code == 403


def test_anonymous_callers_are_asked_to_log_in(client: TestClient, town: Town) -> None:
    assert client.get("/api/v1/alarm-webhooks").status_code == 401
    assert client.get("/api/v1/me/notification-preferences").status_code == 401


@pytest.mark.parametrize("fmt", ["json", "cap"])
def test_a_test_message_is_signed_and_marked_as_a_test(
    client: TestClient, settings: Settings, town: Town, receiver: Receiver, fmt: str
) -> None:
    headers = login(client, settings, "admin")
    created = _create(client, headers, url=receiver.url("/hook"), format=fmt)
    receiver.secrets["/hook"] = created["secret"]
    answer = client.post(f"/api/v1/alarm-webhooks/{created['id']}/test", headers=headers)
    assert answer.json() == {"delivered": True, "error": None}
    [body] = receiver.kept["/hook"].values()
    if fmt == "json":
        assert json.loads(body)["test"] is True
    else:
        alert = ET.fromstring(body)  # noqa: S314 (our own output)
        ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
        assert alert.findtext("cap:status", namespaces=ns) == "Test"


def test_a_test_message_to_a_wrong_secret_or_nowhere_says_what_happened(
    client: TestClient, settings: Settings, town: Town, receiver: Receiver
) -> None:
    headers = login(client, settings, "admin")
    refused = _create(client, headers, url=receiver.url("/hook"))
    receiver.secrets["/hook"] = "not the secret dothi made"
    answer = client.post(f"/api/v1/alarm-webhooks/{refused['id']}/test", headers=headers).json()
    assert answer["delivered"] is False and answer["error"].startswith("HTTP 401")
    nowhere = _create(client, headers, url="http://127.0.0.1:9/nothing-listens")
    answer = client.post(f"/api/v1/alarm-webhooks/{nowhere['id']}/test", headers=headers).json()
    assert answer["delivered"] is False and "Connect" in answer["error"]


def test_people_choose_which_alarms_they_receive_by_email(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = login(client, settings, "officer.p7")
    path = "/api/v1/me/notification-preferences"
    assert client.get(path).json() == {
        "email": {"min_severity": "warning", "active": True},
        "email_address_on_file": True,
    }
    chosen = {"email": {"min_severity": "critical", "active": True}}
    assert client.put(path, json=chosen, headers=headers).status_code == 200
    assert client.get(path).json()["email"] == {"min_severity": "critical", "active": True}
    off = client.put(path, json={"email": {"active": False}}, headers=headers)
    assert off.json()["email"] == {"min_severity": "warning", "active": False}
    wrongs: list[dict[str, Any]] = [
        {"email": {"min_severity": "panic"}},
        {"sms": {}},
        {"email": {"to": "x@y.vn"}},
    ]
    for wrong in wrongs:
        assert client.put(path, json=wrong, headers=headers).status_code == 422
