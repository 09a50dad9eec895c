"""The audit log page: one's area only, filters, and the head hash to keep elsewhere."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dothi.accounts.audit import head
from dothi.config import Settings
from dothi.db.engine import Database
from tests.accounts.helpers import Town
from tests.web.helpers import login


def test_an_officer_sees_the_entries_of_the_ward_only(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "officer.p9")
    page = client.get("/audit")
    assert page.status_code == 200
    assert "<title>Nhật ký kiểm tra · dothi</title>" in page.text
    assert "<td>officer.p9</td>" in page.text  # their own login, filed under Phường 9
    assert "officer.p2" not in page.text
    with demo_db.read() as session:
        newest = head(session)
    assert newest and newest in page.text


def test_the_log_filters_by_action_and_day(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "admin")
    logins = client.get("/audit", params={"action": "login.success"})
    assert "<code>login.success</code>" in logins.text
    assert "<code>org_unit.create</code>" not in logins.text
    assert "<code>org_unit.create</code>" in client.get("/audit").text
    long_ago = client.get("/audit", params={"day": "2001-01-01"})
    assert "Không có mục phù hợp." in long_ago.text


def test_roles_without_the_right_get_403(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "operator")
    answer = client.get("/audit", headers={"accept": "text/html"})
    assert answer.status_code == 403
