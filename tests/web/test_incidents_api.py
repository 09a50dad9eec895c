"""/api/v1 for incidents, SOP steps, directives, shifts: a unit sees and acts on its own
steps and directives only, others get 403; bad input is a 4xx that writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from dothi.config import Settings
from tests.accounts.helpers import Town
from tests.web.helpers import login

WARD_7 = [106.68893, 10.80065]
FLOOD = {
    "type": "flooding",
    "title": "Ngập sâu đường Phan Đăng Lưu",
    "description": "Nước ngập 40 cm, xe máy chết máy",
    "lon": WARD_7[0],
    "lat": WARD_7[1],
    "priority": "critical",
    "message": "Thành phố chuyển tin: ngập tại Phường 7",
}


def _as(client: TestClient, settings: Settings, username: str) -> dict[str, str]:
    client.cookies.clear()
    return login(client, settings, username)


def test_a_unit_sees_and_acts_on_its_own_steps_only(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _as(client, settings, "operator")
    opened = client.post("/api/v1/incidents", json=FLOOD, headers=headers)
    assert opened.status_code == 201, opened.text
    incident = opened.json()
    assert (incident["status"], incident["ward_id"]) == (
        {"code": "new", "label": "Mới"},
        str(town.wards["Phường 7"]),
    )
    detail = client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert [link["kind"] for link in detail["links"]] == ["message"]
    ward_step = detail["steps"][1]
    dispatched = client.post(
        f"/api/v1/sop-steps/{ward_step['id']}/dispatch", json={}, headers=headers
    )
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["org_unit_id"] == str(town.committees["Phường 7"])
    utility = detail["steps"][2]
    none_here = client.post(f"/api/v1/sop-steps/{utility['id']}/dispatch", json={}, headers=headers)
    assert none_here.status_code == 422 and "Name the unit" in none_here.json()["detail"]

    skipped = detail["steps"][3]
    no_reason = {"reason": " "}
    path = f"/api/v1/sop-steps/{skipped['id']}/skip"
    assert client.post(path, json=no_reason, headers=headers).status_code == 422
    answer = client.post(path, json={"reason": "Nước đã rút"}, headers=headers)
    assert answer.json()["skip_reason"] == "Nước đã rút", answer.text

    headers = _as(client, settings, "officer.p9")
    assert client.get("/api/v1/sop-steps").json() == []
    assert client.get(f"/api/v1/incidents/{incident['id']}").status_code == 403
    refused = client.post(
        f"/api/v1/sop-steps/{ward_step['id']}/acknowledge", json={}, headers=headers
    )
    assert refused.status_code == 403, refused.text
    assert client.post("/api/v1/incidents", json=FLOOD, headers=headers).status_code == 403

    headers = _as(client, settings, "officer.p7")
    assert [s["id"] for s in client.get("/api/v1/sop-steps").json()] == [ward_step["id"]]
    seen = client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert [s["id"] for s in seen["steps"]] == [ward_step["id"]]  # its own step only
    done = client.post(
        f"/api/v1/sop-steps/{ward_step['id']}/done", json={"note": "Đã phân luồng"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"]["code"] == "done", done.text
    again = client.post(f"/api/v1/sop-steps/{ward_step['id']}/done", json={}, headers=headers)
    assert again.status_code == 409


def test_a_unit_sees_and_acts_on_its_own_directives_only(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _as(client, settings, "admin")
    deadline = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {
        "title": "Rà soát cây xanh nguy hiểm",
        "content": "Rà soát, báo cáo các cây có nguy cơ ngã đổ trên địa bàn phường.",
        "deadline": deadline,
        "unit_ids": [str(town.committees["Phường 7"])],
    }
    issued = client.post("/api/v1/directives", json=body, headers=headers)
    assert issued.status_code == 201, issued.text
    directive = issued.json()["id"]

    headers = _as(client, settings, "officer.p9")
    assert client.get("/api/v1/directives").json() == []
    assert client.get(f"/api/v1/directives/{directive}").status_code == 403
    for action, payload in (("acknowledge", None), ("progress", {"percent": 10}), ("close", {})):
        answer = client.post(
            f"/api/v1/directives/{directive}/{action}", json=payload, headers=headers
        )
        assert answer.status_code == 403, (action, answer.text)
    assert client.get("/api/v1/directives/board").status_code == 403

    headers = _as(client, settings, "officer.p7")
    assert [d["id"] for d in client.get("/api/v1/directives").json()] == [directive]
    acknowledged = client.post(f"/api/v1/directives/{directive}/acknowledge", headers=headers)
    assert acknowledged.json()["state"]["code"] == "acknowledged", acknowledged.text
    progress = client.post(
        f"/api/v1/directives/{directive}/progress",
        json={
            "percent": 60,
            "text": "Đã rà soát 3 tuyến",
            "attachments": [{"name": "danh-sach.xlsx", "ref": "https://docs.example.vn/ds.xlsx"}],
        },
        headers=headers,
    )
    assert progress.json()["percent"] == 60, progress.text
    too_much = client.post(
        f"/api/v1/directives/{directive}/progress", json={"percent": 160}, headers=headers
    )
    assert too_much.status_code == 422

    _as(client, settings, "admin")
    board = client.get("/api/v1/directives/board").json()
    assert [(row["org_unit_id"], row["counts"]) for row in board] == [
        (str(town.committees["Phường 7"]), {"in_progress": 1})
    ]


def test_bad_input_is_refused_and_writes_nothing(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _as(client, settings, "operator")
    cases = [
        ("/api/v1/incidents", {**FLOOD, "lat": 200}),
        ("/api/v1/incidents", {**FLOOD, "type": "volcano"}),
        ("/api/v1/incidents", {**FLOOD, "lon": 0.0, "lat": 0.0}),
        ("/api/v1/incidents", {**FLOOD, "lead_unit_id": "00000000-0000-0000-0000-000000000001"}),
        ("/api/v1/incidents", {**FLOOD, "title": "\x00"}),
        ("/api/v1/incidents/from-alarm", {"alarm_id": "not-a-uuid"}),
        ("/api/v1/incidents/from-report", {"tracking_code": "NOPE"}),
    ]
    for path, body in cases:
        answer = client.post(path, json=body, headers=headers)
        assert 400 <= answer.status_code < 500, (body, answer.text)
        assert answer.json()["detail"], answer.text
    assert client.get("/api/v1/incidents?status=all").json()["total"] == 0
    assert client.get("/api/v1/incidents/00000000-0000-0000-0000-000000000001").status_code == 404
    assert client.get("/api/v1/sops/flooding").json()["steps"][0]["minutes"] == 10
    assert client.get("/api/v1/incident-indicators").json()["by_type"] == []


def test_shifts_open_close_and_sign_over_http(
    client: TestClient, settings: Settings, town: Town
) -> None:
    headers = _as(client, settings, "operator")
    shift = client.post("/api/v1/shifts", headers=headers).json()
    logged = client.post(
        f"/api/v1/shifts/{shift['id']}/log", json={"text": "Bàn giao thiết bị"}, headers=headers
    )
    assert logged.status_code == 201, logged.text
    draft = client.get(f"/api/v1/shifts/{shift['id']}/handover").json()
    assert draft["incidents"] == [] and len(draft["log"]) == 1
    closed = client.post(f"/api/v1/shifts/{shift['id']}/close", json={}, headers=headers).json()
    assert closed["handover"]["log"] == draft["log"]
    assert client.post(f"/api/v1/shifts/{shift['id']}/sign", headers=headers).status_code == 403
    headers = _as(client, settings, "admin")
    signed = client.post(f"/api/v1/shifts/{shift['id']}/sign", headers=headers)
    assert signed.json()["signed_by"] == "admin", signed.text
    _as(client, settings, "officer.p7")
    assert client.get("/api/v1/shifts").status_code == 403
