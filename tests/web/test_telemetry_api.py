"""/api/v1 telemetry: bulk backfills with a per-line report, series, dead letters, commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dothi.accounts.models import AuditEntry
from dothi.config import Settings
from dothi.db.engine import Database
from dothi.telemetry.models import DeadLetter, Observation
from dothi.web.app import create_app
from tests.helpers import admin_api_key
from tests.telemetry.helpers import integration_key

STATION = "urn:ngsi-ld:AirQualityObserved:pn-w7"
START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def _jsonl(client: TestClient, key: str, body: str) -> dict[str, object]:
    response = client.post(
        "/api/v1/observations",
        content=body.encode(),
        headers={"X-API-Key": key, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    report: dict[str, object] = response.json()
    return report


def _backfill(client: TestClient, key: str, hours: int = 3) -> None:
    lines = [
        f'{{"entity": "{STATION}", "attribute": "pm25", "value": {minute % 60}, '
        f'"observedAt": "{(START + timedelta(minutes=minute)).isoformat()}"}}'
        for minute in range(hours * 60)
    ]
    report = _jsonl(client, key, "\n".join(lines))
    assert report["stored"] == hours * 60


def test_a_jsonl_backfill_reports_refused_lines_by_number(
    client: TestClient, demo_db: Database
) -> None:
    key = integration_key(demo_db)
    body = "\n".join(
        [
            f'{{"entity": "{STATION}", "attribute": "pm25", "value": 12.5, '
            '"observedAt": "2026-11-01T07:00:00+07:00"}',
            "{broken",
            f'{{"entity": "{STATION}", "attrs": '
            f'{{"pm10": {{"value": 30, "observedAt": "{START}"}}, '
            f'"temperature": {{"value": 29.5, "observedAt": "{START}"}}}}}}',
            "",
            f'{{"entity": "{STATION}", "attribute": "pm25"}}',
            f'{{"entity": "{STATION}", "attribute": "pm25", "value": 3}}',  # no observedAt
            f'{{"entity": "{STATION}", "attribute": "pm25", "value": 1{"0" * 400}, '
            '"observedAt": "2026-11-01T07:00:00+07:00"}',
        ]
    )
    report = _jsonl(client, key, body)
    assert (report["lines"], report["stored"], report["refused"]) == (6, 3, 4)
    errors = report["errors"]
    assert [e["line"] for e in errors] == [2, 5, 6, 7]  # type: ignore[attr-defined]
    assert "observedAt is required" in errors[2]["reason"]  # type: ignore[index]
    assert "plausible" in errors[3]["reason"]  # type: ignore[index]
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 3
        payloads = set(session.scalars(select(DeadLetter.payload)))
    assert b"{broken" in payloads


def test_a_csv_backfill_and_its_header_are_checked(client: TestClient, demo_db: Database) -> None:
    key = integration_key(demo_db)
    headers = {"X-API-Key": key, "Content-Type": "text/csv"}
    body = (
        "\ufeffentity,attribute,value,observedAt,unitCode\r\n"  # as Excel saves it
        f"{STATION},pm25,18.0,2026-11-01T00:00:00Z,GQ\n"
        f"{STATION},pm25,not-a-number,2026-11-01T00:01:00Z,GQ\n"
        f"{STATION},pm25,19.0\n"
    )
    report = client.post("/api/v1/observations", content=body, headers=headers).json()
    assert (report["stored"], report["refused"]) == (1, 2)
    assert "expected a number" in report["errors"][0]["reason"]
    assert "columns" in report["errors"][1]["reason"]
    bad_header = client.post("/api/v1/observations", content="a,b\n1,2\n", headers=headers)
    assert "header" in bad_header.json()["errors"][0]["reason"]


def test_bulk_ingest_needs_a_key_and_a_known_format(client: TestClient, demo_db: Database) -> None:
    assert client.post("/api/v1/observations", content=b"{}").status_code == 401
    key = integration_key(demo_db)
    wrong = client.post(
        "/api/v1/observations",
        content=b"{}",
        headers={"X-API-Key": key, "Content-Type": "application/xml"},
    )
    assert wrong.status_code == 415 and "text/csv" in wrong.json()["detail"]


def test_series_come_from_rollups_by_the_hour_and_raw_below(
    client: TestClient, demo_db: Database
) -> None:
    _backfill(client, integration_key(demo_db))
    admin = admin_api_key(demo_db)
    window = {
        "attr": "pm25",
        "from": START.isoformat(),
        "to": (START + timedelta(hours=3)).isoformat(),
    }
    hourly = client.get(
        f"/api/v1/entities/{STATION}/series", params={**window, "every": "1h"}, headers=admin
    ).json()
    assert hourly.get("source") == "rollups", hourly
    assert [p["v"] for p in hourly["points"]] == [29.5, 29.5, 29.5]  # mean of 0..59
    maxima = client.get(
        f"/api/v1/entities/{STATION}/series",
        params={**window, "every": "15m", "agg": "max"},
        headers=admin,
    ).json()
    assert maxima["source"] == "observations" and len(maxima["points"]) == 12
    assert [p["v"] for p in maxima["points"][:4]] == [14, 29, 44, 59]
    unknown = client.get(
        "/api/v1/entities/urn:ngsi-ld:AirQualityObserved:none/series", params=window, headers=admin
    )
    assert unknown.status_code == 404


def test_series_are_public_only_when_the_deployment_publishes_them(
    settings: Settings, demo_db: Database, client: TestClient
) -> None:
    _backfill(client, integration_key(demo_db), hours=1)
    params = {
        "attr": "pm25",
        "from": START.isoformat(),
        "to": (START + timedelta(hours=1)).isoformat(),
    }
    url = f"/api/v1/entities/{STATION}/series"
    assert client.get(url, params=params).status_code == 401
    public = settings.model_copy(update={"public_context_data": True})
    with TestClient(create_app(public, database=demo_db)) as anonymous:
        assert anonymous.get(url, params=params).json()["points"][0]["v"] == 29.5


def test_dead_letters_are_for_managers(client: TestClient, demo_db: Database) -> None:
    key = integration_key(demo_db)
    _jsonl(client, key, "{broken")
    assert client.get("/api/v1/dead-letters", headers={"X-API-Key": key}).status_code == 403
    page = client.get("/api/v1/dead-letters", headers=admin_api_key(demo_db)).json()
    assert page["total"] == 1 and page["items"][0]["payload"] == "{broken"


def test_a_command_is_recorded_and_audited(client: TestClient, demo_db: Database) -> None:
    key = integration_key(demo_db)
    light = "urn:ngsi-ld:Streetlight:pn-0001"
    on = f'{{"powerState": {{"value": "on", "observedAt": "{START.isoformat()}"}}}}'
    _jsonl(client, key, f'{{"entity": "{light}", "attrs": {on}}}')
    body = {"name": "dim", "arguments": {"illuminanceLevel": 0.3}}
    url = f"/api/v1/entities/{light}/commands"
    assert client.post(url, json=body, headers={"X-API-Key": key}).status_code == 403
    admin = admin_api_key(demo_db)
    sent = client.post(url, json=body, headers=admin)
    assert sent.status_code == 201 and sent.json()["status"] == "no broker"
    assert client.get(url, headers=admin).json()[0]["arguments"] == {"illuminanceLevel": 0.3}
    with demo_db.read() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert "device.command" in actions


def test_dead_letters_are_counted_in_the_metrics(client: TestClient, demo_db: Database) -> None:
    _jsonl(client, integration_key(demo_db), "{broken\n{also broken")
    metrics = client.get("/metrics", headers=admin_api_key(demo_db)).text
    assert 'dothi_dead_letters{source="http"} 2.0' in metrics


def test_series_read_raw_rows_when_the_window_ends_inside_an_hour(
    client: TestClient, demo_db: Database
) -> None:
    _backfill(client, integration_key(demo_db), hours=1)
    params = {
        "attr": "pm25",
        "from": START.isoformat(),
        "to": (START + timedelta(minutes=20)).isoformat(),
        "agg": "max",
    }
    answer = client.get(
        f"/api/v1/entities/{STATION}/series", params=params, headers=admin_api_key(demo_db)
    ).json()
    assert answer["source"] == "observations" and answer["points"][0]["v"] == 19


def test_series_refuse_times_out_of_history(client: TestClient, demo_db: Database) -> None:
    params = {"attr": "pm25", "from": "0001-01-01T00:00:00+01:00", "to": "2026-01-01T00:00:00Z"}
    answer = client.get(
        f"/api/v1/entities/{STATION}/series", params=params, headers=admin_api_key(demo_db)
    )
    assert answer.status_code == 422 and "range" in answer.text


def test_a_csv_line_the_csv_module_cannot_read_is_refused(
    client: TestClient, demo_db: Database
) -> None:
    headers = {"X-API-Key": integration_key(demo_db), "Content-Type": "text/csv"}
    huge = '"' + "9" * 200_000 + '"'  # beyond the csv module's field limit
    body = (
        f"entity,attribute,value,observedAt\nurn:ngsi-ld:Device:a,x,{huge},2026-11-01T00:00:00Z\n"
    )
    report = client.post("/api/v1/observations", content=body, headers=headers).json()
    assert report["refused"] == 1 and "Not a CSV line" in report["errors"][0]["reason"]
