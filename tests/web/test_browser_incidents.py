"""The incident pages in real Chromium: an operator opens an incident from an alarm of the
live feed, dispatches a step and completes it and sees it in the timeline; a leader on a
phone sees the overdue directive first on the board (screenshots to test-artifacts/)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from dothi.core.clock import FixedClock, SystemClock
from dothi.db.engine import Database
from dothi.incidents.models import Incident, IncidentStep
from dothi.places.service import get_unit
from dothi.web.app import create_app
from tests.browser import live_server, offline_district
from tests.incidents.helpers import build_desk
from tests.web.test_browser_dashboard import (  # the dashboard tests' browser, pages, shots
    PHONE,
    Pages,
    browser,
    pages,
    screenshot,
)
from tests.web.test_incident_pages import issue

__all__ = ["browser", "pages"]  # fixtures of this module too

OVERDUE = "Khơi thông cống Phan Đăng Lưu"
LATER = "Rà soát cây xanh nguy hiểm"


@dataclass
class Site:
    url: str
    db: Database


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """The demo district offline, an open flood alarm in Phường 7 raised an hour ago, a
    directive to Phường 7 and 9 two hours overdue and one to Phường 9 due tomorrow."""
    settings, database = offline_district(sqlite_template, tmp_path)
    clock = FixedClock(SystemClock().now() - timedelta(hours=3))
    desk = build_desk(database, clock)
    issue(desk, OVERDUE, ["ubnd-p7", "ubnd-p9"], 1)
    issue(desk, LATER, ["ubnd-p9"], 27)
    clock.advance(timedelta(hours=2))
    desk.flood(0.45)
    app = create_app(settings, database=database)
    try:
        with live_server(app) as url:
            yield Site(url, database)
    finally:
        database.dispose()


def test_an_operator_opens_an_incident_from_an_alarm_and_completes_a_step(
    pages: Pages, site: Site
) -> None:
    page = pages.open("operator")
    page.wait_for_selector("#feed[data-ready='true'] li.alarm")
    page.wait_for_selector("#dash-map[data-incidents-count='0']")
    page.locator("#feed li.alarm").first.get_by_role("button", name="Mở sự cố").click()
    page.wait_for_url("**/incidents/*")
    assert page.locator("#incident").get_attribute("data-status") == "new"
    assert page.locator("li.step").count() == 5

    ward_step = page.locator("li.step").nth(1)
    step_id = ward_step.get_attribute("data-step")
    assert ward_step.get_attribute("data-state") == "pending"
    ward_step.get_by_role("button", name="Giao việc").click()
    dispatched = page.locator(f"li.step[data-step='{step_id}'][data-state='dispatched']")
    dispatched.wait_for()
    assert "Ủy ban nhân dân Phường 7" in dispatched.inner_text()
    dispatched.get_by_role("button", name="Đã xong").click()
    page.wait_for_selector(f"li.step[data-step='{step_id}'][data-state='done']")
    page.wait_for_selector("#incident[data-status='in_progress']")
    timeline = page.locator("#timeline").inner_text()
    assert "Giao việc · bước 2" in timeline and "Hoàn thành việc · bước 2" in timeline
    assert page.locator("#timeline li[data-kind='step_done']").count() == 1
    with site.db.read() as session:
        step = session.get(IncidentStep, uuid.UUID(str(step_id)))
        assert step is not None and (step.state, step.done_by) == ("done", "operator")

    page.fill("textarea[name='text']", "Đã liên hệ UBND Phường 7")
    page.get_by_role("button", name="Gửi").click()
    page.wait_for_selector("#timeline li[data-kind='message']")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "incident-1600x900.png")
    page.goto("/dashboard")
    page.wait_for_selector("#dash-map[data-incidents-count='1']")


def test_a_leader_sees_the_overdue_directive_first_on_a_phone(pages: Pages) -> None:
    phone = pages.open("leader", PHONE, phone=True)
    phone.goto("/directives")
    assert phone.title() == "Chỉ đạo điều hành · dothi"
    first = phone.locator(".unit-card").first
    assert "has-overdue" in (first.get_attribute("class") or "")
    item = first.locator(".part").first
    assert item.get_attribute("data-overdue") == "true" and OVERDUE in item.inner_text()
    colour = item.locator(".part-state").evaluate("node => getComputedStyle(node).color")
    assert colour == "rgb(198, 40, 40)"  # red
    assert phone.locator(".part[data-overdue='true']").count() == 2  # Phường 7 and 9
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the board scrolls sideways"
    screenshot(phone, "directives-board-390x844.png")


def test_an_operator_opens_an_incident_by_hand_from_a_message_of_the_city(
    pages: Pages, site: Site
) -> None:
    page = pages.open("operator")
    page.goto("/incidents")
    page.locator("details.open-incident summary").click()
    form = page.locator("details.open-incident form")
    form.locator("select[name='type']").select_option("fallen_tree")
    form.locator("input[name='title']").fill("Cây đổ trên đường Hoàng Văn Thụ")
    form.locator("select[data-point]").select_option(label="Phường 9")
    form.locator("textarea[name='message']").fill("Thành phố chuyển tin báo lúc 15:20.")
    form.get_by_role("button", name="Mở sự cố").click()
    page.wait_for_url("**/incidents/*")
    incident_id = page.url.rsplit("/", 1)[-1]
    with site.db.read() as session:
        opened = session.get(Incident, uuid.UUID(incident_id))
        assert opened is not None and opened.type == "fallen_tree"
        ward = get_unit(session, opened.admin_unit_id) if opened.admin_unit_id else None
    assert ward is not None and ward.name == "Phường 9"
    assert "Thành phố chuyển tin báo" in page.locator("body").inner_text()
