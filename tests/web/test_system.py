"""Health, metrics, OpenAPI and the one error handler."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from dothi.db.engine import Database
from dothi.web.auth import is_guard
from tests.helpers import admin_api_key


def test_healthz_reports_database_and_schema(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}
    assert body["schema"]


def test_metrics_count_requests_by_route_template(client: TestClient, demo_db: Database) -> None:
    client.get("/healthz")
    client.get("/api/v1/places/00000000-0000-0000-0000-000000000000")
    assert client.get("/metrics").status_code == 401  # monitoring logs in with an API key
    answer = client.get("/metrics", headers=admin_api_key(demo_db))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert 'dothi_http_requests_total{method="GET",route="/healthz",status="200"}' in answer.text
    assert 'route="/api/v1/places/{unit_id}"' in answer.text


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/places" in spec["paths"]


def test_api_errors_are_problem_details(client: TestClient) -> None:
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 404


def test_validation_errors_name_the_field(client: TestClient) -> None:
    answer = client.get("/api/v1/places", params={"limit": "many"})
    assert answer.status_code == 422
    assert "limit" in answer.json()["detail"]


def test_pages_get_an_html_error_in_vietnamese_by_default(client: TestClient) -> None:
    answer = client.get("/no-such-page", headers={"accept": "text/html"})
    assert answer.status_code == 404
    assert "Không tìm thấy" in answer.text
    english = client.get("/no-such-page?lang=en", headers={"accept": "text/html"})
    assert "Not found" in english.text
    assert english.cookies.get("dothi_lang") == "en"


def test_nul_in_the_address_is_refused_with_a_message(client: TestClient) -> None:
    answer = client.get("/api/v1/places", params={"q": "Ph\x00uong"})
    assert answer.status_code == 400
    assert "NUL" in answer.json()["detail"]


def test_huge_offsets_are_refused_not_crashed(client: TestClient) -> None:
    answer = client.get("/api/v1/places", params={"offset": 10**20})
    assert answer.status_code == 422
    assert "offset" in answer.json()["detail"]


def test_the_language_switch_keeps_the_rest_of_the_address(client: TestClient) -> None:
    page = client.get("/login?next=/api/docs")
    assert 'href="http://testserver/login?next=%2Fapi%2Fdocs&amp;lang=en"' in page.text


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _guarded(route: APIRoute) -> bool:
    return any(is_guard(dependency.call) for dependency in route.dependant.dependencies)


def test_every_route_declares_its_permission(client: TestClient) -> None:
    """One permission dependency on every route: a route without it is a hole.

    The login form is the way in, so it is the one route without it.
    """
    routes = list(_api_routes(client.app.routes))  # type: ignore[attr-defined]
    unguarded = [route.path for route in routes if route.path != "/login" and not _guarded(route)]
    assert len(routes) > 15
    assert not unguarded, f"routes without require(...): {unguarded}"
