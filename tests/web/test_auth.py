"""Login page, session cookies, CSRF, API keys and scope, through HTTP."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.web.auth import SESSION_COOKIE, decode_session
from tests.accounts.helpers import PASSWORD, PHONE, START, Town, build_town


@pytest.fixture
def town(demo_db: Database) -> Town:
    return build_town(demo_db, FixedClock(START))


def _form_token(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the login form carries no CSRF token"
    return found.group(1)


def _post_login(
    client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/"
) -> Response:
    token = _form_token(client.get("/login"))
    form = {"username": username, "password": password, "csrf_token": token, "next": next_url}
    answer: Response = client.post("/login", data=form, follow_redirects=False)
    return answer


def login(client: TestClient, settings: Settings, username: str) -> dict[str, str]:
    """Log in; return the CSRF header that unsafe JSON calls of this session need."""
    assert _post_login(client, username).status_code == 303
    session = decode_session(settings, client.cookies[SESSION_COOKIE])
    assert session is not None
    return {"X-CSRF-Token": session.csrf}


def test_the_login_page_speaks_vietnamese(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "<title>Đăng nhập · dothi</title>" in page.text
    assert "Tên đăng nhập" in page.text and "Mật khẩu" in page.text
    assert "httponly" in page.headers["set-cookie"].lower()
    english = client.get("/login?lang=en")
    assert "<title>Log in · dothi</title>" in english.text and "Username" in english.text


def test_a_good_password_sets_an_httponly_session_cookie(
    client: TestClient, settings: Settings, town: Town
) -> None:
    answer = _post_login(client, "Officer.P9", next_url="/api/v1/users/me?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/v1/users/me?x=1"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if SESSION_COOKIE in c).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert f"max-age={settings.session_max_age}" in cookie
    me = client.get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json()["username"] == "officer.p9" and me.json()["phone"] == PHONE


def test_a_wrong_password_shows_the_form_again_without_a_cookie(
    client: TestClient, town: Town
) -> None:
    answer = _post_login(client, "officer.p9", "sai mật khẩu")
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in answer.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/api/v1/users/me").status_code == 401


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_a_login_without_the_forms_csrf_token_is_refused(
    client: TestClient, town: Town, token: str
) -> None:
    client.get("/login")
    form = {"username": "officer.p9", "password": PASSWORD, "csrf_token": token}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_only_redirects_to_local_paths(client: TestClient, town: Town, target: str) -> None:
    answer = _post_login(client, "officer.p9", next_url=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_unsafe_calls_with_a_cookie_need_the_csrf_header(
    client: TestClient, settings: Settings, town: Town
) -> None:
    csrf = login(client, settings, "admin")
    url = f"/api/v1/users/{town.users['officer.p9']}"
    assert client.patch(url, json={"full_name": "Lê Văn Tâm"}).status_code == 403
    wrong = {"X-CSRF-Token": "nope"}
    assert client.patch(url, json={"full_name": "Lê Văn Tâm"}, headers=wrong).status_code == 403
    changed = client.patch(url, json={"full_name": "Lê Văn Tâm"}, headers=csrf)
    assert changed.status_code == 200 and changed.json()["full_name"] == "L*** V*** T***"


def test_api_keys_authenticate_machines_until_revoked(
    client: TestClient, settings: Settings, town: Town
) -> None:
    csrf = login(client, settings, "admin")
    keys_url = f"/api/v1/users/{town.users['operator']}/api-keys"
    created = client.post(keys_url, json={"name": "trạm đo"}, headers=csrf)
    assert created.status_code == 201
    secret, key_id = created.json()["secret"], created.json()["id"]
    assert "secret" not in client.get(keys_url).json()[0]
    machine = TestClient(client.app)
    for header in ({"Authorization": f"Bearer {secret}"}, {"X-API-Key": secret}):
        me = machine.get("/api/v1/users/me", headers=header)
        assert me.status_code == 200 and me.json()["username"] == "operator"
    assert client.delete(f"{keys_url}/{key_id}", headers=csrf).status_code == 200
    revoked = machine.get("/api/v1/users/me", headers={"X-API-Key": secret})
    assert revoked.status_code == 401
    assert revoked.headers["content-type"] == "application/problem+json"


def test_api_key_calls_need_no_csrf_token(
    client: TestClient, settings: Settings, town: Town
) -> None:
    csrf = login(client, settings, "admin")
    secret = client.post(
        f"/api/v1/users/{town.users['admin']}/api-keys", json={"name": "tích hợp"}, headers=csrf
    ).json()["secret"]
    machine = TestClient(client.app)
    url = f"/api/v1/users/{town.users['officer.p9']}"
    answer = machine.patch(url, json={"phone": None}, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and answer.json()["phone"] is None


def _entry_in(db: Database, ward: uuid.UUID) -> int:
    """The chain number of the entry that recorded the creation of a ward's committee."""
    with db.read() as session:
        query = select(AuditEntry.id).where(
            AuditEntry.action == "org_unit.create", AuditEntry.admin_unit_id == ward
        )
        return session.scalars(query).one()


def test_a_ward_2_officer_gets_403_on_ward_9_users_and_audit(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "officer.p2")
    assert client.get(f"/api/v1/users/{town.users['officer.p9']}").status_code == 403
    assert client.get(f"/api/v1/users/{town.users['leader.p2']}").status_code == 200
    assert (
        client.get(f"/api/v1/audit/{_entry_in(demo_db, town.wards['Phường 9'])}").status_code == 403
    )
    assert (
        client.get(f"/api/v1/audit/{_entry_in(demo_db, town.wards['Phường 2'])}").status_code == 200
    )
    entries = client.get("/api/v1/audit", params={"limit": 500}).json()["items"]
    assert entries and {entry["admin_unit_id"] for entry in entries} == {
        str(town.wards["Phường 2"])
    }


def test_a_district_operator_sees_the_users_of_all_15_wards(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "operator")
    page = client.get("/api/v1/users", params={"limit": 500, "role": "officer"}).json()
    assert page["total"] == 15
    assert {user["org_unit_id"] for user in page["items"]} == {
        str(org_unit) for org_unit in town.committees.values()
    }
    one = client.get(f"/api/v1/users/{town.users['officer.p9']}").json()
    assert one["masked"] and one["phone"] == "091****678"


def test_anonymous_callers_get_401_and_officers_403_for_missing_rights(
    client: TestClient, settings: Settings, town: Town
) -> None:
    assert client.get("/api/v1/users").status_code == 401
    assert client.get("/api/v1/places", params={"level": "ward"}).status_code == 200
    csrf = login(client, settings, "officer.p2")
    new_user = {"username": "x", "password": "một mật khẩu dài", "role": "citizen"}
    assert client.post("/api/v1/users", json=new_user, headers=csrf).status_code == 403


def test_logout_ends_the_session_even_for_a_copied_cookie(
    client: TestClient, settings: Settings, town: Town
) -> None:
    csrf = login(client, settings, "officer.p2")
    copied = client.cookies[SESSION_COOKIE]
    form = {"csrf_token": csrf["X-CSRF-Token"]}
    answer = client.post("/logout", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    replay = TestClient(client.app, cookies={SESSION_COOKIE: copied})
    assert replay.get("/api/v1/users/me").status_code == 401


def test_logout_needs_the_sessions_csrf_token(
    client: TestClient, settings: Settings, town: Town
) -> None:
    login(client, settings, "officer.p2")
    answer = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/api/v1/users/me").status_code == 200


def test_repeated_failures_throttle_the_login(client: TestClient, town: Town) -> None:
    for _ in range(5):
        assert _post_login(client, "officer.p2", "sai mật khẩu").status_code == 401
    blocked = _post_login(client, "officer.p2")
    assert blocked.status_code == 429 and "Quá nhiều lần đăng nhập sai" in blocked.text
    assert _post_login(client, "officer.p3").status_code == 303
