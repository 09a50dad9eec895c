"""/api/v1/rules and /api/v1/alarms: rules in JSON and YAML, refused clearly; alarms by area."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml
from fastapi.testclient import TestClient

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.catalogue import ensure_rules
from dothi.alarms.io import default_rules
from dothi.config import Settings
from dothi.core.clock import SystemClock
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from tests.accounts.helpers import Town
from tests.telemetry.helpers import PROVISIONER, message
from tests.web.helpers import login

FLOOD = {
    "code": "flood-ward-7",
    "name": "Ngập nước Phường 7",
    "kind": "threshold",
    "entity_type": "FloodMonitoring",
    "attribute": "currentLevel",
    "wards": ["*"],
    "levels": [{"severity": "warning", "above": 0.1}, {"severity": "critical", "above": 0.3}],
}
WARD_7 = [106.68893, 10.80065]


def _admin(client: TestClient, settings: Settings) -> dict[str, str]:
    return login(client, settings, "admin")


def test_a_rule_is_created_read_replaced_and_deleted(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _admin(client, settings)
    created = client.post("/api/v1/rules", json=FLOOD, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["definition"]["levels"][1] == {"severity": "critical", "above": 0.3}
    assert client.post("/api/v1/rules", json=FLOOD, headers=headers).status_code == 409
    changed = {**FLOOD, "levels": [{"severity": "warning", "above": 0.15}]}
    replaced = client.put("/api/v1/rules/flood-ward-7", json=changed, headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert client.get("/api/v1/rules/flood-ward-7").json()["definition"]["levels"] == [
        {"severity": "warning", "above": 0.15}
    ]
    assert client.delete("/api/v1/rules/flood-ward-7", headers=headers).status_code == 204
    assert client.get("/api/v1/rules/flood-ward-7").status_code == 404


def test_invalid_rules_are_refused_saying_what_is_wrong(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _admin(client, settings)
    cases = {
        "pm99": {**FLOOD, "attribute": "pm99"},
        "wards": {**FLOOD, "wards": []},
        "outside": {**FLOOD, "levels": [{"severity": "warning", "outside": [0.5, 0.1]}]},
        "Phường 99": {**FLOOD, "wards": ["99999"]},
    }
    for expected, body in cases.items():
        answer = client.post("/api/v1/rules", json=body, headers=headers)
        assert answer.status_code == 422, (expected, answer.text)
        detail = answer.json()["detail"]
        assert "flood-ward-7" in detail, detail
        assert expected in detail or "ward" in detail, detail
    assert client.get("/api/v1/rules").json() == []  # nothing half-written


def test_rules_go_out_and_come_back_as_yaml(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _admin(client, settings)
    text = yaml.safe_dump({"rules": [FLOOD]}, allow_unicode=True)
    imported = client.post(
        "/api/v1/rules/import",
        content=text.encode(),
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert imported.json() == {"created": ["flood-ward-7"], "replaced": []}, imported.text
    exported = client.get("/api/v1/rules.yaml")
    assert exported.headers["content-type"].startswith("application/yaml")
    again = client.post(
        "/api/v1/rules/import",
        content=exported.content,
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert again.json() == {"created": [], "replaced": ["flood-ward-7"]}
    broken = client.post(
        "/api/v1/rules/import",
        content=b"rules:\n  - code: x\n    kind: [unclosed\n",
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert broken.status_code == 422 and "line" in broken.json()["detail"], broken.text


def test_alarms_are_listed_by_area_and_acknowledged_once(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    with demo_db.write() as session:
        ensure_rules(session, default_rules(), SYSTEM, SystemClock(), settings.timezone)
    _flood_in_ward_7(client.app.state.pipeline, 0.4)  # type: ignore[attr-defined]

    headers = login(client, settings, "officer.p7")
    seen = client.get("/api/v1/alarms").json()
    filtered = client.get("/api/v1/alarms?state=open&severity=critical&limit=5").json()
    assert filtered["items"] == [a for a in seen["items"] if a["severity"] == "critical"][:5]
    assert client.get("/api/v1/alarms?state=closed").status_code == 422
    assert seen["total"] == 1 and seen["items"][0]["severity"] == "critical"
    alarm_id = seen["items"][0]["id"]
    client.cookies.clear()
    login(client, settings, "officer.p9")
    assert client.get("/api/v1/alarms").json()["total"] == 0  # another ward's alarm
    assert client.get(f"/api/v1/alarms/{alarm_id}").status_code == 404
    client.cookies.clear()

    headers = login(client, settings, "officer.p7")
    done = client.post(
        f"/api/v1/alarms/{alarm_id}/acknowledge", json={"note": "Đang xử lý"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"] == "acknowledged", done.text
    twice = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={}, headers=headers)
    assert twice.status_code == 409
    no_reason = client.post(
        f"/api/v1/alarms/{alarm_id}/clear", json={"reason": ""}, headers=headers
    )
    assert no_reason.status_code == 422
    detail = client.get(f"/api/v1/alarms/{alarm_id}").json()
    assert [event["kind"] for event in detail["history"]] == ["raised", "acknowledged"]


def _flood_in_ward_7(pipeline: Pipeline, metres: float) -> None:
    """A flood sensor in Phường 7 reports a water level through the app's pipeline."""
    now = datetime.now(UTC)
    document = {
        "currentLevel": {"value": metres, "observedAt": now.isoformat()},
        "location": {"type": "Point", "coordinates": WARD_7},
    }
    sensor = "urn:ngsi-ld:FloodMonitoring:pn-test"
    outcome = pipeline.ingest([message(sensor, document, PROVISIONER, now)])
    assert outcome.stored == 1
