"""A citizen on a phone reports a pothole with a photo in real Chromium, and finds it on the
public map."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    ConsoleMessage,
    FilePayload,
    Page,
    ViewportSize,
    sync_playwright,
)

from dothi.core.clock import FixedClock, SystemClock
from dothi.web.app import create_app
from tests.browser import chromium_path, live_server, offline_district
from tests.reports.helpers import PHONE, build_district
from tests.web.report_pages import jpeg

PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 15_000


@pytest.fixture
def base_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """The app on a real SQLite file of the demo district, offline (no map tiles)."""
    settings, database = offline_district(sqlite_template, tmp_path)
    build_district(database, FixedClock(SystemClock().now()))
    try:
        with live_server(create_app(settings, database=database)) as url:
            yield url
    finally:
        database.dispose()


@pytest.fixture
def page(base_url: str) -> Iterator[Page]:
    """A phone-sized page of Chromium, failing the test on any console error."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        context = browser.new_context(
            viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, base_url=base_url
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert not errors, errors


def test_a_citizen_reports_a_pothole_by_tapping_the_map(page: Page) -> None:
    page.goto("/reports/new")
    page.wait_for_selector("#picker[data-ready='true']")
    page.locator("#picker").tap()
    page.wait_for_function("document.getElementById('lat').value !== ''")
    page.select_option("#category", "giao-thong")
    page.wait_for_selector("select[name='attr.hang-muc']")
    page.select_option("select[name='attr.hang-muc']", "mat-duong")
    page.fill("textarea[name='description']", "Ổ gà lớn giữa đường, xe máy dễ té")
    page.fill("input[name='phone']", PHONE)
    photo: FilePayload = {"name": "o-ga.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    page.set_input_files("input[name='photo']", files=[photo])
    page.get_by_role("button", name="Gửi phản ánh").tap()
    code = page.locator("#tracking-code").inner_text(timeout=WAIT_MS)
    assert code.startswith("PA")
    assert "token=" in page.locator("#private-link").inner_text()

    page.goto(f"/reports/{code}")
    thumbnail = page.locator(".photos img")
    thumbnail.wait_for()
    page.wait_for_function("document.querySelector('.photos img').naturalWidth > 0")

    page.goto("/reports/map")
    page.wait_for_selector("#report-map[data-markers='1'][data-ready='true']")
    markers = json.loads(page.locator("#report-markers").text_content() or "[]")
    assert [marker["code"] for marker in markers] == [code]
    assert PHONE not in page.content()
