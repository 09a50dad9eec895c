"""The incident pages, server side: who gets which page, a unit sees only its own parts of
directives, the incident layer of the dashboard, and every string is translated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.incidents import directives, service
from dothi.incidents.schemas import DirectiveIn, FromAlarmIn
from dothi.web.app import create_app
from tests.incidents.helpers import Desk, build_desk
from tests.reports.helpers import START
from tests.web.helpers import login

HTML = {"Accept": "text/html"}


@dataclass
class Site:
    client: TestClient
    settings: Settings
    desk: Desk
    incident: str


def issue(desk: Desk, title: str, units: list[str], hours: float) -> None:
    """The leader sends a directive due `hours` from the desk's clock."""
    with desk.db.write() as session:
        data = DirectiveIn(
            title=title,
            content="Kiểm tra và báo cáo",
            deadline=desk.clock.now() + timedelta(hours=hours),
            unit_ids=[desk.unit(code) for code in units],
        )
        directives.issue(session, desk.who("leader"), data, desk.clock)


@pytest.fixture
def site(settings: Settings, demo_db: Database) -> Iterator[Site]:
    """A flood incident opened from an alarm in Phường 7, and two directives: one to the
    ward committees of Phường 7 and 9 already overdue, one to Phường 9 due tomorrow."""
    clock = FixedClock(START - timedelta(days=2))
    desk = build_desk(demo_db, clock)
    alarm = desk.flood(0.45)
    with demo_db.write() as session:
        opened = service.open_from_alarm(
            session, desk.who("operator"), FromAlarmIn(alarm_id=alarm.id), clock
        )
        incident = str(opened.id)
    issue(desk, "Khơi thông cống Phan Đăng Lưu", ["ubnd-p7", "ubnd-p9"], 24)
    clock.advance(timedelta(days=2))
    issue(desk, "Rà soát cây xanh nguy hiểm", ["ubnd-p9"], 24)
    app = create_app(settings, database=demo_db, clock=clock)
    with TestClient(app) as client:
        yield Site(client, settings, desk, incident)


def test_an_operator_sees_the_open_incidents_and_one_with_its_steps(site: Site) -> None:
    login(site.client, site.settings, "operator")
    listing = site.client.get("/incidents")
    assert listing.status_code == 200
    assert "<title>Sự cố · dothi</title>" in listing.text
    assert f'href="/incidents/{site.incident}"' in listing.text
    assert "Ngập nước" in listing.text and "bước trễ" in listing.text  # two days old: late
    assert 'href="/directives"' in listing.text and 'href="/shifts"' in listing.text
    closed = site.client.get("/incidents", params={"status": "closed"}).text
    assert site.incident not in closed
    assert site.client.get("/incidents", params={"status": "nope"}).status_code == 422

    page = site.client.get(f"/incidents/{site.incident}")
    assert page.status_code == 200
    assert page.text.count('class="step ') == 5 and "Trễ hạn" in page.text
    assert "/api/v1/sop-steps/" in page.text and "/dispatch" in page.text
    assert "Cảnh báo" in page.text and "Diễn biến" in page.text  # its cause, its timeline
    assert 'name="csrf-token"' in page.text
    english = site.client.get(f"/incidents/{site.incident}", params={"lang": "en"}).text
    assert "SOP steps" in english and "Timeline" in english and "Flooding" in english


def test_pages_need_their_permission(site: Site) -> None:
    for path in ("/incidents", f"/incidents/{site.incident}", "/directives", "/shifts"):
        anonymous = site.client.get(path, headers=HTML, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"], path
    login(site.client, site.settings, "officer.p9")
    assert site.client.get("/shifts", headers=HTML).status_code == 403  # no shifts:keep
    assert site.client.get(f"/incidents/{site.incident}", headers=HTML).status_code == 403
    nav = site.client.get("/incidents").text
    assert 'href="/shifts"' not in nav and 'href="/directives"' in nav


def test_a_unit_sees_only_its_own_parts_of_directives(site: Site) -> None:
    login(site.client, site.settings, "officer.p7")
    page = site.client.get("/directives").text
    assert "Khơi thông cống Phan Đăng Lưu" in page
    assert "Rà soát cây xanh nguy hiểm" not in page  # Phường 9's only
    assert "Bảng theo đơn vị" not in page and "Ban hành chỉ đạo" not in page
    assert page.count('class="card own-part') == 1 and "own-part overdue" in page
    assert "UBND Phường 9" not in page


def test_the_leaders_board_puts_overdue_first_and_offers_the_form(site: Site) -> None:
    login(site.client, site.settings, "leader")
    page = site.client.get("/directives").text
    assert "Bảng theo đơn vị" in page and "Ban hành chỉ đạo" in page
    cards = re.findall(r'<article class="unit-card( has-overdue)?"', page)
    assert cards[0] == " has-overdue"
    first = page.index('data-overdue="true"')
    assert first < page.index('data-overdue="false"')
    assert 'type="datetime-local"' in page and 'data-offset="+07:00"' in page


def test_an_operator_keeps_the_shift_log(site: Site) -> None:
    login(site.client, site.settings, "operator")
    assert "Mở ca trực" in site.client.get("/shifts").text
    headers = login(site.client, site.settings, "operator")
    shift = site.client.post("/api/v1/shifts", headers=headers).json()
    site.client.post(
        f"/api/v1/shifts/{shift['id']}/log", json={"text": "Mưa lớn 17h"}, headers=headers
    )
    page = site.client.get("/shifts").text
    assert "Mưa lớn 17h" in page and "Biên bản giao ca" in page
    assert f'href="/incidents/{site.incident}"' in page  # open in the drafted handover
    site.client.post(f"/api/v1/shifts/{shift['id']}/close", json={}, headers=headers)
    login(site.client, site.settings, "operator.b")
    waiting = site.client.get("/shifts").text
    assert "Ký nhận ca" in waiting and f"/api/v1/shifts/{shift['id']}/sign" in waiting


def test_the_dashboard_layer_of_incidents(site: Site) -> None:
    login(site.client, site.settings, "operator")
    layer = site.client.get("/api/v1/dashboard/layers/incidents").json()
    [feature] = layer["features"]
    properties = feature["properties"]
    assert properties["id"] == site.incident and properties["type_label"] == "Ngập nước"
    assert (properties["status"], properties["priority"]) == ("new", "critical")
    assert properties["late_steps"] == 5 and properties["ward"]
    dashboard = site.client.get("/dashboard").text
    assert 'data-layer="incidents"' in dashboard and 'data-can-open="true"' in dashboard
    login(site.client, site.settings, "officer.p9")
    assert site.client.get("/api/v1/dashboard/layers/incidents").json()["features"] == []
