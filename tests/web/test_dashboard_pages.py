"""The dashboard's pages, server side: who gets which page, in which language, with which
area; an officer's pages hold their ward only; every string is translated."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from dothi.web.app import create_app
from tests.reports.helpers import START
from tests.web.dashboard_pages import prepare, water
from tests.web.helpers import login

SENSOR_9 = "urn:ngsi-ld:FloodMonitoring:feed-9"


@dataclass
class Dash:
    client: TestClient
    settings: Settings
    pipeline: Pipeline
    codes: dict[str, str]


@pytest.fixture
def dash(settings: Settings, demo_db: Database) -> Iterator[Dash]:
    clock = FixedClock(START)
    _, codes = prepare(demo_db, clock)
    app = create_app(settings, database=demo_db, clock=clock)
    with TestClient(app) as client:
        water(app.state.pipeline, "Phường 9", 0.45, clock.now())
        water(app.state.pipeline, "Phường 7", 0.2, clock.now())
        yield Dash(client, settings, app.state.pipeline, codes)


def wards_of(page: str) -> dict[str, str]:
    found = re.search(r'<script type="application/json" id="dash-wards">(.*?)</script>', page)
    assert found, "the page names no wards"
    names: dict[str, str] = json.loads(found.group(1))
    return names


def test_home_leads_operators_to_the_dashboard_in_vietnamese_then_english(dash: Dash) -> None:
    login(dash.client, dash.settings, "operator")
    home = dash.client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/dashboard")
    page = dash.client.get("/")
    assert page.status_code == 200
    assert "<title>Bảng điều hành · dothi</title>" in page.text
    assert 'lang="vi"' in page.text and "Cảnh báo trực tiếp" in page.text
    assert len(wards_of(page.text)) == 15
    assert "My unit's queue" not in page.text and "queue-title" not in page.text
    english = dash.client.get("/dashboard", params={"lang": "en"}).text
    assert "<title>Operations dashboard · dothi</title>" in english and "Live alarms" in english


def test_every_view_has_its_title_and_needs_a_login(dash: Dash) -> None:
    html = {"Accept": "text/html"}
    for path in ("/dashboard", "/dashboard/leader", "/dashboard/wall", f"/entities/{SENSOR_9}"):
        anonymous = dash.client.get(path, headers=html, follow_redirects=False)
        assert anonymous.status_code in (303, 401), path
    login(dash.client, dash.settings, "operator")
    titles = {
        "/dashboard/leader": "Góc nhìn lãnh đạo",
        "/dashboard/wall": "Màn hình lớn",
        f"/entities/{SENSOR_9}": SENSOR_9,
    }
    for path, title in titles.items():
        page = dash.client.get(path)
        assert page.status_code == 200, path
        assert f"<title>{title}" in page.text, path
    wall = dash.client.get("/dashboard/wall").text
    assert 'class="topbar"' not in wall and 'data-theme="dark"' in wall


def test_a_ward_officer_sees_their_ward_and_their_units_queue_only(dash: Dash) -> None:
    login(dash.client, dash.settings, "officer.p9")
    page = dash.client.get("/dashboard").text
    assert list(wards_of(page).values()) == ["Phường 9"]
    assert "Góc nhìn phường" in page and "Hàng đợi của đơn vị tôi" in page
    assert dash.codes["Phường 9"] in page
    assert dash.codes["Phường 7"] not in page
    for path in ("/dashboard/leader", "/dashboard/wall"):
        view = dash.client.get(path).text
        assert "Phường 7" not in view and dash.codes["Phường 7"] not in view


def test_the_entity_page_shows_latest_values_and_alarms_in_the_officers_area(dash: Dash) -> None:
    login(dash.client, dash.settings, "officer.p9")
    page = dash.client.get(f"/entities/{SENSOR_9}").text
    assert "currentLevel" in page and "0.45" in page
    assert 'id="alarm-history"' in page and "Nghiêm trọng" in page
    assert 'data-attr="currentLevel"' in page
    assert "08:30 15/01/2026" in page  # observed at 01:30 UTC, shown in Hồ Chí Minh City time
    other = dash.client.get(
        "/entities/urn:ngsi-ld:FloodMonitoring:feed-7", headers={"Accept": "text/html"}
    )
    assert other.status_code == 404
