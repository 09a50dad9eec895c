"""The camera wall: the cameras of one's area with their health, pictures through the proxy,
the coverage of the main roads; Vietnamese throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.simulator.cameras import load_demo_cameras
from dothi.web.app import create_app
from tests.accounts.helpers import Town
from tests.web.helpers import login


@pytest.fixture
def client(settings: Settings, demo_db: Database, town: Town) -> Iterator[TestClient]:
    with demo_db.write() as session:
        clock = FixedClock(datetime(2026, 12, 1, 3, tzinfo=UTC))
        load_demo_cameras(session, clock, "Asia/Ho_Chi_Minh", "768")
    with TestClient(create_app(settings, database=demo_db)) as test_client:
        yield test_client


def _tiles(page: str) -> list[str]:
    return re.findall(r'data-camera="([^"]+)"', page)


def test_an_operator_sees_the_district_wall_in_vietnamese(
    client: TestClient, settings: Settings
) -> None:
    login(client, settings, "operator")
    page = client.get("/cameras")
    assert page.status_code == 200
    assert (
        "<strong>400</strong> camera" in page.text
        and "tuyến đường chính được giám sát" in page.text
    )
    assert len(_tiles(page.text)) == 24  # a page of the wall
    offline = client.get("/cameras?health=offline").text
    assert _tiles(offline) and all(
        "h-offline" in tile for tile in re.findall(r'<li class="camera-tile [^"]+"', offline)
    )
    second = client.get("/cameras?page=2").text
    assert set(_tiles(second)).isdisjoint(_tiles(page.text))


def test_a_ward_officer_sees_only_their_wards_cameras(
    client: TestClient, settings: Settings
) -> None:
    login(client, settings, "officer.p2")
    page = client.get("/cameras").text
    assert _tiles(page) and "Phường 2" in page and "Phường 9" not in page
    assert _tiles(client.get("/cameras?ward=27070").text) == []  # not their ward: nothing


def test_people_without_the_right_are_refused(client: TestClient, settings: Settings) -> None:
    assert client.get("/cameras", follow_redirects=False).status_code in (303, 401)
    assert client.get("/cameras?health=broken").status_code in (303, 401, 422)
