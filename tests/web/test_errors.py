"""The one error handler: every failure becomes an answer in the caller's format."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, IntegrityError

from dothi.errors import Conflict, Forbidden
from dothi.web.errors import ErrorRenderers, Problem, install_error_handlers
from dothi.web.templating import Templates


def _raise(error: Exception) -> None:
    raise error


@pytest.fixture
def app() -> TestClient:
    app = FastAPI()
    app.state.templates = Templates("vi", "Asia/Ho_Chi_Minh")
    renderers = ErrorRenderers()

    def open311_style(_request: Request, problem: Problem) -> Response:
        return JSONResponse(
            [{"code": problem.status, "description": problem.detail}], status_code=problem.status
        )

    renderers.register("/open311/", open311_style)
    install_error_handlers(app, renderers)
    failures: dict[str, Exception] = {
        "race": IntegrityError("INSERT", {}, Exception("duplicate key")),
        "nul": DataError("INSERT", {}, Exception("NUL")),
        "bug": RuntimeError("secret 0912345678"),
        "taken": Conflict("That username is taken."),
        "denied": Forbidden("This is outside your area."),
    }
    for prefix in ("/api/v1", "/open311/v2", "/page"):
        for name, error in failures.items():
            app.add_api_route(f"{prefix}/{name}", lambda error=error: _raise(error))
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("name", "status"), [("race", 409), ("nul", 422), ("bug", 500), ("taken", 409), ("denied", 403)]
)
def test_api_failures_are_problem_details(app: TestClient, name: str, status: int) -> None:
    answer = app.get(f"/api/v1/{name}")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status and body["detail"]
    assert "0912345678" not in answer.text  # an unexpected error never echoes its text


def test_a_standard_api_answers_in_its_own_format(app: TestClient) -> None:
    answer = app.get("/open311/v2/denied")
    assert answer.status_code == 403
    assert answer.json() == [{"code": 403, "description": "This is outside your area."}]


def test_pages_get_an_error_page_in_vietnamese(app: TestClient) -> None:
    page = app.get("/page/taken", headers={"accept": "text/html"})
    assert page.status_code == 409
    assert "Xung đột dữ liệu" in page.text
