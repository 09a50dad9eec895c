"""/api/v1/dashboard: the contract's shapes, an officer's ward only, refused parameters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.web.app import create_app
from tests.kpis.helpers import Scene, build_scene
from tests.web.helpers import login

DATA = [
    "/api/v1/dashboard/overview",
    "/api/v1/dashboard/wards",
    "/api/v1/dashboard/layers/sensors",
    "/api/v1/dashboard/layers/alarms",
    "/api/v1/dashboard/layers/reports",
    "/api/v1/dashboard/charts/aqi?hours=24",
    "/api/v1/dashboard/charts/flood?hours=24",
    "/api/v1/dashboard/charts/reports?days=30",
    "/api/v1/dashboard/queues",
]
P9 = "27049"


@pytest.fixture
def scene(demo_db: Database) -> Scene:
    return build_scene(demo_db)


@pytest.fixture
def app_client(settings: Settings, demo_db: Database, scene: Scene) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=demo_db, clock=scene.clock)) as client:
        yield client


def test_the_operator_gets_every_answer_of_the_contract(
    app_client: TestClient, settings: Settings, scene: Scene
) -> None:
    login(app_client, settings, "operator")
    answers = {url: app_client.get(url) for url in DATA}
    assert all(a.status_code == 200 for a in answers.values()), answers
    overview = answers[DATA[0]].json()
    assert overview["zone"] == "Asia/Ho_Chi_Minh" and overview["at"].endswith("Z")
    assert overview["area"] == {"code": "768", "name": "Quận Phú Nhuận"}
    assert overview["aqi"]["worst_ward"] == {"code": P9, "name": "Phường 9", "aqi": 164}
    wards = answers[DATA[1]].json()
    assert wards["type"] == "FeatureCollection" and len(wards["features"]) == 15
    ring = wards["features"][0]["geometry"]["coordinates"][0]
    assert all(round(c, 5) == c for point in ring for c in point)
    assert set(wards["features"][0]["properties"]) == {
        "code", "name", "open_alarms", "critical_alarms", "open_reports", "overdue_reports", "aqi",
    }  # fmt: skip
    report = answers[DATA[4]].json()["features"][0]["properties"]
    assert set(report) == {
        "code", "category", "category_name", "state", "state_label", "overdue",
        "submitted_at", "due_at",
    }  # fmt: skip
    narrowed = app_client.get(f"/api/v1/dashboard/overview?ward={P9}").json()
    assert narrowed["area"]["name"] == "Phường 9" and narrowed["reports"]["open"] == 2


def test_a_ward_officer_never_gets_another_wards_alarms_or_reports(
    app_client: TestClient, settings: Settings, scene: Scene
) -> None:
    login(app_client, settings, "officer.p2")
    for url in DATA:
        answer = app_client.get(url)
        assert answer.status_code == 200, (url, answer.text)
        text = answer.text
        assert P9 not in text and "Phường 9" not in text, url
        assert not any(code in text for code in scene.reports["Phường 9"]), url
    alarms = app_client.get("/api/v1/dashboard/layers/alarms").json()
    assert alarms["features"] == []
    refused = app_client.get(f"/api/v1/dashboard/layers/reports?ward={P9}")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dashboard/overview?ward=99999",
        "/api/v1/dashboard/overview?ward=%3Cscript%3E",
        "/api/v1/dashboard/charts/aqi?hours=0",
        "/api/v1/dashboard/charts/flood?hours=1000",
        "/api/v1/dashboard/charts/reports?days=abc",
    ],
)
def test_bad_parameters_are_problem_details(
    app_client: TestClient, settings: Settings, url: str
) -> None:
    login(app_client, settings, "operator")
    answer = app_client.get(url)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_dashboard_needs_a_login_and_the_permission(app_client: TestClient) -> None:
    assert app_client.get(DATA[0]).status_code == 401
