"""Login page, session cookies, CSRF, API keys and scope, through HTTP."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from dothi.accounts import identity
from dothi.accounts.models import ApiKey, AuditEntry
from dothi.accounts.passwords import PasswordCheck, check_password
from dothi.accounts.permissions import ANONYMOUS
from dothi.config import Settings
from dothi.db.engine import Database
from dothi.web import auth
from dothi.web.app import create_app
from dothi.web.auth import (
    SESSION_COOKIE,
    Caller,
    SessionData,
    client_address,
    csrf_token,
)
from tests.accounts.helpers import PASSWORD, PHONE, Town
from tests.web.helpers import form_token, login, post_login


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
    answer = post_login(client, "Officer.P9", next_url="/api/v1/users/me?x=1")
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
    answer = post_login(client, "officer.p9", "sai mật khẩu")
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
    answer = post_login(client, "officer.p9", next_url=target)
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
        assert post_login(client, "officer.p2", "sai mật khẩu").status_code == 401
    blocked = post_login(client, "officer.p2")
    assert blocked.status_code == 429 and "Quá nhiều lần đăng nhập sai" in blocked.text
    assert post_login(client, "officer.p3").status_code == 303


def _answers_while_the_writer_is_busy(db: Database, call: Callable[[], Response]) -> Response:
    """Make `call` from a thread while this thread holds the writer; it must not wait for it."""
    answers: list[Response] = []
    with db.write():
        worker = threading.Thread(target=lambda: answers.append(call()))
        worker.start()
        worker.join(timeout=15)
        done = not worker.is_alive()
    worker.join()
    assert done, "the request waited for the writer"
    return answers[0]


def test_the_password_is_checked_without_holding_the_writer(
    client: TestClient, demo_db: Database, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check_while_writer_free(stored: str | None, password: str) -> PasswordCheck:
        with demo_db.try_write() as session:
            assert session is not None, "the writer is held during the password check"
        return check_password(stored, password)

    monkeypatch.setattr(identity, "check_password", check_while_writer_free)
    assert post_login(client, "officer.p9", "sai mật khẩu").status_code == 401
    assert post_login(client, "officer.p9").status_code == 303


def test_a_crowd_of_wrong_logins_all_answer_and_health_stays_up(
    client: TestClient, town: Town
) -> None:
    """More writers than the server has worker threads: none may starve the others."""
    token = form_token(client.get("/login"))
    statuses: list[int] = []
    healthy = 0

    def guess(number: int) -> None:
        form = {"username": f"officer.p{number % 20}", "password": "sai", "csrf_token": token}
        statuses.append(client.post("/login", data=form, follow_redirects=False).status_code)

    with ThreadPoolExecutor(max_workers=60) as pool:
        futures = [pool.submit(guess, number) for number in range(60)]
        deadline = time.monotonic() + 300  # stalled logins fail here, not hang the suite
        while not all(future.done() for future in futures):
            assert time.monotonic() < deadline, "the logins never all answered"
            assert client.get("/healthz").status_code == 200
            healthy += 1
        for future in futures:
            future.result()
    assert len(statuses) == 60 and set(statuses) <= {401, 429}
    assert healthy > 0


def test_a_masked_user_read_does_not_wait_for_the_writer(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "operator")
    url = f"/api/v1/users/{town.users['officer.p9']}"
    answer = _answers_while_the_writer_is_busy(demo_db, lambda: client.get(url))
    assert answer.status_code == 200 and answer.json()["masked"]


def test_an_unmasked_user_read_is_audited(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    login(client, settings, "admin")
    answer = client.get(f"/api/v1/users/{town.users['officer.p9']}")
    assert answer.status_code == 200 and not answer.json()["masked"]
    with demo_db.read() as session:
        query = select(AuditEntry.object_id).where(AuditEntry.action == "user.read_personal")
        assert session.scalars(query).all() == [str(town.users["officer.p9"])]


def _operator_key(client: TestClient, settings: Settings, town: Town) -> dict[str, str]:
    csrf = login(client, settings, "admin")
    keys_url = f"/api/v1/users/{town.users['operator']}/api-keys"
    secret = client.post(keys_url, json={"name": "trạm đo"}, headers=csrf).json()["secret"]
    return {"X-API-Key": secret}


def test_an_api_key_call_never_waits_for_the_writer_to_note_its_use(
    client: TestClient, settings: Settings, demo_db: Database, town: Town
) -> None:
    key = _operator_key(client, settings, town)
    machine = TestClient(client.app)
    answer = _answers_while_the_writer_is_busy(
        demo_db, lambda: machine.get("/api/v1/users/me", headers=key)
    )
    assert answer.status_code == 200
    with demo_db.read() as session:
        used = session.scalars(select(ApiKey.last_used_at)).one()
    assert (used is None) == demo_db.is_sqlite  # skipped while SQLite's writer was busy
    assert machine.get("/api/v1/users/me", headers=key).status_code == 200


def test_a_failing_use_note_does_not_fail_the_call(
    client: TestClient,
    settings: Settings,
    demo_db: Database,
    town: Town,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = _operator_key(client, settings, town)

    def broken(*_args: object) -> None:
        raise OperationalError("UPDATE api_keys", {}, Exception("database is locked"))

    monkeypatch.setattr(auth, "touch_api_key", broken)
    assert TestClient(client.app).get("/api/v1/users/me", headers=key).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-15T08:00:00"},
        {"offset": str(10**12)},
        {"actor": "a\x00b"},
    ],
)
def test_malformed_audit_queries_are_4xx(
    client: TestClient, settings: Settings, town: Town, params: dict[str, str]
) -> None:
    login(client, settings, "admin")
    answer = client.get("/api/v1/audit", params=params)
    assert 400 <= answer.status_code < 500


@pytest.mark.parametrize("entry_id", ["0", str(2**63), str(10**30)])
def test_audit_entry_numbers_are_bounded(
    client: TestClient, settings: Settings, town: Town, entry_id: str
) -> None:
    login(client, settings, "admin")
    assert client.get(f"/api/v1/audit/{entry_id}").status_code == 422


def test_a_nul_in_the_username_is_refused(client: TestClient, town: Town) -> None:
    assert post_login(client, "officer\x00p9").status_code == 400


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(
    settings: Settings, demo_db: Database, town: Town
) -> None:
    proxied = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    app = create_app(proxied, database=demo_db)
    with TestClient(app, client=("10.0.0.5", 4000)) as nginx:
        for _ in range(5):
            nginx.headers["X-Forwarded-For"] = "203.0.113.7"
            assert post_login(nginx, "officer.p2", "sai mật khẩu").status_code == 401
        assert post_login(nginx, "officer.p2").status_code == 429
        nginx.headers["X-Forwarded-For"] = "203.0.113.7, 198.51.100.9"
        assert post_login(nginx, "officer.p2").status_code == 303


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1), "headers": headers})


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    trusted = ["127.0.0.1", "10.0.0.0/8"]
    assert client_address(_request("127.0.0.1", "203.0.113.7"), trusted) == "203.0.113.7"
    assert client_address(_request("198.51.100.9", "203.0.113.7"), trusted) == "198.51.100.9"
    assert client_address(_request("127.0.0.1", "1.2.3.4, 203.0.113.7, 10.1.1.1"), trusted) == (
        "203.0.113.7"
    )
    assert client_address(_request("127.0.0.1", "1.2.3.4"), []) == "127.0.0.1"


def test_templates_get_the_csrf_token_of_the_identified_caller() -> None:
    request = _request("127.0.0.1")
    data = SessionData(uuid.uuid4(), 1, "jeton")
    request.state.caller = Caller(ANONYMOUS, data)  # no cookie needs decoding again
    assert csrf_token(request) == "jeton"
    request.state.caller = Caller(ANONYMOUS, None)
    assert csrf_token(request) is None


def test_guesses_sent_all_at_once_are_throttled_like_one_by_one(
    client: TestClient, town: Town
) -> None:
    token = form_token(client.get("/login"))
    form = {"username": "officer.p9", "password": "sai", "csrf_token": token}

    def guess(_number: int) -> int:
        answer: Response = client.post("/login", data=form, follow_redirects=False)
        return answer.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(guess, range(12)))
    assert statuses.count(401) == 5  # the limit per name and address
    assert statuses.count(429) == 7
