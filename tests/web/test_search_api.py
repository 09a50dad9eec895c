"""/api/v1/search: diacritics-insensitive, within the caller's area, parameters checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dothi.config import Settings
from dothi.db.engine import Database
from dothi.web.app import create_app
from tests.kpis.helpers import build_scene
from tests.web.helpers import login


@pytest.fixture
def app_client(settings: Settings, demo_db: Database) -> Iterator[TestClient]:
    scene = build_scene(demo_db)
    app = create_app(settings, database=demo_db, clock=scene.clock)
    app.state.scene = scene
    with TestClient(app) as client:
        yield client


def _search(client: TestClient, q: str, **params: str) -> list[dict[str, object]]:
    answer = client.get("/api/v1/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    results: list[dict[str, object]] = answer.json()["results"]
    return results


def test_phuong_7_finds_phuong_7_and_streets_and_reports(
    app_client: TestClient, settings: Settings
) -> None:
    login(app_client, settings, "operator")
    first = _search(app_client, "phuong 7")[0]
    assert (first["kind"], first["label"], first["url"]) == (
        "ward",
        "Phường 7",
        "/dashboard?ward=27052",
    )
    street = _search(app_client, "hoang van thu")[0]
    assert street["kind"] == "street" and street["label"] == "Hoàng Văn Thụ"
    assert isinstance(street["lon"], float)
    code = app_client.app.state.scene.reports["Phường 9"][0]  # type: ignore[attr-defined]
    assert [r["label"] for r in _search(app_client, code)] == [code]
    assert len(_search(app_client, "phuong", limit="3")) == 3


def test_an_officer_finds_nothing_of_another_ward(
    app_client: TestClient, settings: Settings
) -> None:
    login(app_client, settings, "officer.p2")
    code = app_client.app.state.scene.reports["Phường 9"][0]  # type: ignore[attr-defined]
    assert _search(app_client, code) == []
    assert [r["label"] for r in _search(app_client, "phuong") if r["kind"] == "ward"] == [
        "Phường 2"
    ]
    assert _search(app_client, "tram phuong 9") == []


@pytest.mark.parametrize(
    "query", ["", "q=" + "x" * 101, "q=a&limit=0", "q=a&limit=51", "q=a&ward=1"]
)
def test_bad_parameters_are_problem_details(
    app_client: TestClient, settings: Settings, query: str
) -> None:
    login(app_client, settings, "operator")
    answer = app_client.get(f"/api/v1/search?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
