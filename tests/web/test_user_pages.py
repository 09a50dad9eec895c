"""The user administration pages, as a ward leader and an officer use them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from dothi.accounts.models import AuditEntry, User
from dothi.config import Settings
from dothi.db.engine import Database
from tests.accounts.helpers import PHONE, Town
from tests.web.helpers import form_token, login, post_login


def _add(client: TestClient, **fields: str | list[str]) -> tuple[int, str]:
    token = form_token(client.get("/users/new"))
    answer = client.post("/users/new", data={"csrf_token": token, **fields})
    return answer.status_code, answer.text


def _usernames(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(User.username)))


def test_a_ward_leader_sees_only_the_ward_and_masked_phones(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "leader.p2")
    page = client.get("/users")
    assert page.status_code == 200
    assert "<title>Người dùng · dothi</title>" in page.text
    assert "<td>officer.p2</td>" in page.text and "<td>leader.p2</td>" in page.text
    assert "<td>officer.p9</td>" not in page.text and "<td>operator</td>" not in page.text
    assert PHONE not in page.text and "091****678" in page.text


def test_the_list_filters_by_area(client: TestClient, settings: Settings, town: Town) -> None:
    login(client, settings, "operator")
    page = client.get("/users", params={"ward": str(town.wards["Phường 9"])})
    assert "<td>officer.p9</td>" in page.text and "<td>officer.p2</td>" not in page.text


def test_a_leader_adds_a_user_and_the_shown_password_works(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "leader.p2")
    status, text = _add(
        client,
        username="can.bo.moi",
        role="officer",
        full_name="Lê Thị Cúc",
        org_unit_id=str(town.committees["Phường 2"]),
        scope_unit_ids=[str(town.wards["Phường 2"])],
    )
    assert status == 201 and "Đã thêm người dùng" in text
    password = re.search(r'<code class="secret">([^<]+)</code>', text)
    assert password
    with demo_db.read() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "leader.p2"))
        )
    assert "user.create" in actions
    client.cookies.clear()
    assert post_login(client, "can.bo.moi", password.group(1)).status_code == 303


def test_a_leader_cannot_grant_another_ward_and_nothing_is_written(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "leader.p2")
    status, text = _add(
        client,
        username="ke.gian",
        role="officer",
        org_unit_id=str(town.committees["Phường 2"]),
        scope_unit_ids=[str(town.wards["Phường 9"])],
    )
    assert status == 403 and "ngoài địa bàn" in text
    assert "ke.gian" not in _usernames(demo_db)


def test_a_bad_username_is_explained_on_the_form(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "leader.p2")
    status, text = _add(client, username="Tên Có Dấu", role="officer")
    assert status == 422 and "username" in text
    assert 'value="Tên Có Dấu"' in text  # what was typed is kept
    assert len(_usernames(demo_db)) == 18


def test_an_officer_may_list_but_not_add(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "officer.p9")
    assert client.get("/users").status_code == 200
    assert "Thêm người dùng" not in client.get("/users").text
    refused = client.get("/users/new", headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert "Không có quyền truy cập" in refused.text


def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    answer = client.get("/users", headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/users"
