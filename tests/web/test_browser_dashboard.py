"""The operations dashboard in real Chromium: an operator logs in, sees the 15 wards, switches
layers, sees an alarm arrive live and acknowledges it; a ward officer sees their ward only;
screenshots of the overview, the leader's phone view and the wall go to test-artifacts/."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    ViewportSize,
    sync_playwright,
)

from dothi.accounts.permissions import SYSTEM
from dothi.alarms.models import Alarm
from dothi.cameras.schemas import CameraIn
from dothi.cameras.service import save_camera
from dothi.core.clock import FixedClock, SystemClock
from dothi.db.engine import Database
from dothi.web.app import create_app
from tests.accounts.helpers import PASSWORD
from tests.alarms.test_feed import WARDS as FLOOD_POINTS
from tests.alarms.test_feed import ZONE
from tests.browser import chromium_path, live_server, offline_district
from tests.cameras.helpers import PASSWORD as CAMERA_PASSWORD
from tests.cameras.helpers import USER, snapshot_server
from tests.telemetry.helpers import integration_key
from tests.web.dashboard_pages import cameras, prepare, water

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
WIDE: ViewportSize = {"width": 1600, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 15_000
LIVE_WITHIN = 2.0  # seconds from the observation stored to its alarm in the feed
SENSOR_9 = "urn:ngsi-ld:FloodMonitoring:feed-9"


@dataclass
class Site:
    url: str
    db: Database
    key: str
    codes: dict[str, str]


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """The app on a real SQLite file of the demo district, offline (no map tiles), with
    reports and quiet flood sensors in Phường 7 and 9 and an alarm already open in Phường 7."""
    settings, database = offline_district(sqlite_template, tmp_path)
    now = SystemClock().now()
    _, codes = prepare(database, FixedClock(now - timedelta(hours=2)))
    cameras(database, FixedClock(now))
    app = create_app(settings, database=database)
    water(app.state.pipeline, "Phường 9", 0.0, now - timedelta(minutes=30))
    water(app.state.pipeline, "Phường 7", 0.4, now - timedelta(minutes=20))
    key = integration_key(database)
    try:
        with live_server(app) as url:
            yield Site(url, database, key, codes)
    finally:
        database.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        yield launched
        launched.close()


class Pages:
    """Opens pages of one logged-in user; any console error fails the test."""

    def __init__(self, browser: Browser, site: Site) -> None:
        self.browser, self.site, self.errors = browser, site, list[str]()

    def open(self, username: str, viewport: ViewportSize = WIDE, phone: bool = False) -> Page:
        context = self.browser.new_context(
            viewport=viewport, base_url=self.site.url, is_mobile=phone, has_touch=phone
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

        def on_response(answer: Response) -> None:
            if answer.status >= 400:
                self.errors.append(f"{answer.status} {answer.url}")

        page.on("response", on_response)
        page.goto("/login")
        page.fill("input[name='username']", username)
        page.fill("input[name='password']", PASSWORD)
        page.click("button[type='submit']")
        page.wait_for_url("**/dashboard")
        return page


@pytest.fixture
def pages(browser: Browser, site: Site) -> Iterator[Pages]:
    opened = Pages(browser, site)
    yield opened
    assert not opened.errors, opened.errors


def ready(page: Page) -> None:
    """The overview drew its map, indicators, feed and charts."""
    page.wait_for_selector("#dash-map[data-ready='true']")
    page.wait_for_selector("#kpis[data-ready='true']")
    page.wait_for_selector("#feed[data-live='true'][data-ready='true']")
    for chart in ("aqi", "flood", "reports"):
        page.wait_for_selector(f"[data-chart='{chart}'][data-ready='true']")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(700)  # charts finish their entry animation
    page.screenshot(path=str(ARTIFACTS / name))


def observe(site: Site, metres: float) -> None:
    """The Phường 9 flood sensor reports through the HTTP API, with an integration key."""
    reading = {"entity": SENSOR_9, "attribute": "currentLevel", "value": metres}
    line = json.dumps({**reading, "observedAt": datetime.now(UTC).isoformat()})
    stored = httpx.post(
        f"{site.url}/api/v1/observations",
        content=line,
        headers={"X-API-Key": site.key, "Content-Type": "application/x-ndjson"},
    )
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text


def test_an_operator_watches_the_map_and_acknowledges_a_live_alarm(
    pages: Pages, site: Site
) -> None:
    page = pages.open("operator")
    assert page.title() == "Bảng điều hành · dothi"
    ready(page)
    assert page.locator("#dash-map path.ward").count() == 15
    assert page.locator("#dash-map").get_attribute("data-wards") == "15"
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()

    # An observation over 30 cm: its alarm reaches the feed without a reload.
    rows = page.locator("#feed li.alarm")
    before = rows.count()
    observe(site, 0.42)
    started = time.monotonic()
    row = page.locator("#feed li.alarm:has(a[href*='feed-9'])")
    row.wait_for(timeout=LIVE_WITHIN * 1000)
    assert time.monotonic() - started < LIVE_WITHIN
    assert rows.count() == before + 1
    assert row.get_attribute("data-state") == "active"
    page.wait_for_selector("#dash-map[data-alarms-count='2']")  # the map follows the feed
    screenshot(page, "dashboard-overview-1600x900.png")

    row.get_by_role("button", name="Tiếp nhận").click()
    page.wait_for_selector("#feed li.alarm[data-state='acknowledged']:has(a[href*='feed-9'])")
    with site.db.read() as session:
        alarm = session.query(Alarm).filter(Alarm.entity_id == SENSOR_9).one()
    assert (alarm.state, alarm.acknowledged_by) == ("acknowledged", "operator")

    # Layers: reports on, alarms off, a sensor type off; the wards shaded by overdue reports.
    page.get_by_role("checkbox", name="Phản ánh hiện trường").check()
    page.wait_for_selector("#dash-map[data-reports='on']")
    page.locator("#layers input[data-layer='alarms']").uncheck()
    page.wait_for_selector("#dash-map[data-alarms='off']")
    flood = page.locator("#sensor-types input[data-sensor-type='FloodMonitoring']")
    flood.uncheck()
    page.wait_for_selector("#dash-map[data-type-flood-monitoring='off']")
    page.get_by_role("checkbox", name="Camera").check()
    page.wait_for_selector("#dash-map[data-cameras='on'][data-cameras-count='2']")
    page.get_by_label("Phản ánh quá hạn", exact=True).check()
    page.wait_for_selector("#dash-map[data-shade='overdue_reports']")
    page.locator("#layers input[data-layer='alarms']").check()


def test_search_finds_a_ward_without_diacritics_and_enter_opens_it(pages: Pages) -> None:
    page = pages.open("operator")
    ready(page)
    page.fill("#dash-q", "phuong 7")
    page.wait_for_selector("#dash-results[role='listbox']:not([hidden]) .result")
    assert "Phường 7" in page.locator("#dash-results").inner_text()
    page.press("#dash-q", "ArrowDown")
    assert page.locator("#dash-q").get_attribute("aria-activedescendant") == "dash-result-0"
    target = page.locator("#dash-results .result").first
    assert target.get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        page.press("#dash-q", "Enter")


def test_a_ward_officer_sees_only_their_ward(pages: Pages, site: Site) -> None:
    page = pages.open("officer.p9")
    ready(page)
    page.get_by_role("checkbox", name="Phản ánh hiện trường").check()
    page.wait_for_selector("#dash-map[data-reports='on']")
    assert page.locator("#dash-map path.ward").count() == 1
    assert page.locator("#dash-map").get_attribute("data-reports-count") == "1"
    page.wait_for_selector("#dash-map[data-cameras-count]")
    assert page.locator("#dash-map").get_attribute("data-cameras-count") == "1"
    text = page.locator("#dash").inner_text()
    assert site.codes["Phường 9"] in text and site.codes["Phường 7"] not in text
    assert "feed-7" not in page.content()  # the open alarm of Phường 7 is not theirs
    page.wait_for_selector("#units[data-ready='true']")
    leader = pages.open("officer.p9", PHONE, phone=True)
    leader.goto("/dashboard/leader")
    leader.wait_for_selector("#top-alarms[data-ready='true']")
    assert "feed-7" not in leader.content() and site.codes["Phường 7"] not in leader.content()


def test_the_leader_view_on_a_phone_and_the_wall(pages: Pages) -> None:
    phone = pages.open("operator", PHONE, phone=True)
    phone.goto("/dashboard/leader")
    assert phone.title() == "Góc nhìn lãnh đạo · dothi"
    phone.wait_for_selector("#kpis[data-ready='true']")
    phone.wait_for_selector("#top-alarms[data-ready='true'] li.alarm")
    phone.wait_for_selector("#unit-bars[data-ready='true']")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the leader view scrolls sideways"
    screenshot(phone, "dashboard-leader-390x844.png")

    wall = pages.open("operator", WIDE)
    wall.goto("/dashboard/wall")
    wall.wait_for_selector("#dash-map[data-ready='true']")
    wall.wait_for_selector("#kpis[data-ready='true']")
    wall.wait_for_selector("#feed[data-live='true']")
    assert wall.locator(".topbar").count() == 0
    assert wall.locator("#dash").get_attribute("data-panel") == "map"
    screenshot(wall, "dashboard-wall-1600x900.png")
    wall.locator(".wall-dots [data-show='aqi']").click()
    wall.wait_for_selector("#dash[data-panel='aqi']")
    wall.wait_for_selector("[data-chart='aqi'][data-ready='true']")
    screenshot(wall, "dashboard-wall-aqi-1600x900.png")


def test_the_entity_page_draws_its_charts_and_switches_range(pages: Pages) -> None:
    page = pages.open("operator")
    page.goto(f"/entities/{SENSOR_9}")
    page.wait_for_selector("[data-attr='currentLevel'][data-ready='true']")
    page.get_by_label("7 ngày").check()
    page.wait_for_selector("#entity[data-range='7d']")
    page.wait_for_selector("[data-attr='currentLevel'][data-ready='true']")
    assert page.locator("#alarm-history").count() == 0 or page.locator("#alarm-history tr").count()


def test_the_camera_wall_shows_a_camera_picture_blurred(pages: Pages, site: Site) -> None:
    with snapshot_server() as url:
        data = CameraIn(
            code="CAM-9",
            name="Camera Phường 9",
            lon=FLOOD_POINTS["Phường 9"][0],
            lat=FLOOD_POINTS["Phường 9"][1],
            snapshot_url=url,
            username=USER,
            password=CAMERA_PASSWORD,
        )
        with site.db.write() as session:
            save_camera(session, SYSTEM, data, FixedClock(datetime.now(UTC)), ZONE)
        page = pages.open("operator")
        page.goto("/cameras")
        assert page.title() == "Camera · dothi"
        picture = page.locator("li[data-camera='CAM-9'] img.camera-picture")
        picture.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth === 640", arg=picture.element_handle()
        )
        assert page.locator("li[data-camera='CAM-7'] .camera-picture.none").count() == 1
        screenshot(page, "camera-wall-1600x900.png")
