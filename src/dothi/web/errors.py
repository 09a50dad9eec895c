"""One place that turns errors into answers, in the caller's format.

Domain code raises `DothiError`; validation and routing errors are mapped onto
the same shape. A standard API (Open311, NGSI-LD) registers its own renderer
for its path prefix; the JSON API answers RFC 9457 problem details; pages get
an HTML page in the user's language (or a redirect to the login page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException

from dothi.errors import DothiError
from dothi.web.templating import gettext, render

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    """What went wrong, independent of how it is written down."""

    status: int
    code: str
    title: str
    detail: str
    errors: list[dict[str, Any]] | None = None


Renderer = Callable[[Request, Problem], Response]

_TITLES = {
    400: "Bad request",
    401: "Login required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}


def problem_json(_request: Request, problem: Problem) -> Response:
    """RFC 9457 problem details."""
    body: dict[str, Any] = {
        "type": f"urn:dothi:error:{problem.code}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = problem.errors
    return JSONResponse(body, status_code=problem.status, media_type="application/problem+json")


def problem_page(request: Request, problem: Problem) -> Response:
    """An HTML error page, or the login page when a login is needed."""
    if problem.status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    context = {
        "problem": problem,
        "title": gettext(request, problem.title),
        "detail": gettext(request, problem.detail),
    }
    return render(request, "error.html", context, status_code=problem.status)


class ErrorRenderers:
    """Renderers by path prefix; the longest matching prefix wins."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, Renderer] = {"/api/": problem_json}

    def register(self, prefix: str, renderer: Renderer) -> None:
        self._by_prefix[prefix] = renderer

    def render(self, request: Request, problem: Problem) -> Response:
        path = request.url.path
        for prefix in sorted(self._by_prefix, key=len, reverse=True):
            if path.startswith(prefix):
                return self._by_prefix[prefix](request, problem)
        if "text/html" in request.headers.get("accept", ""):
            return problem_page(request, problem)
        return problem_json(request, problem)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]


def install_error_handlers(app: FastAPI, renderers: ErrorRenderers) -> None:
    """Route every error of the app through `renderers`."""

    async def on_dothi_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DothiError)
        title = _TITLES.get(exc.status, "Error")
        return renderers.render(request, Problem(exc.status, exc.code, title, exc.message))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        problem = Problem(422, "invalid", _TITLES[422], detail, errors)
        return renderers.render(request, problem)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        response = renderers.render(request, Problem(exc.status_code, "http", title, detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def on_integrity_error(request: Request, exc: Exception) -> Response:
        # Two requests raced past a service's uniqueness check: the database said no.
        detail = "This conflicts with a record that was just stored. Reload and try again."
        return renderers.render(request, Problem(409, "conflict", _TITLES[409], detail))

    async def on_data_error(request: Request, exc: Exception) -> Response:
        detail = "A value has characters or a size the database cannot store."
        return renderers.render(request, Problem(422, "invalid", _TITLES[422], detail))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # The traceback, never the locals or bound SQL parameters: they may hold personal data.
        log.exception("unhandled error", path=request.url.path, error=type(exc).__name__)
        problem = Problem(
            500, "internal", _TITLES[500], "The server could not complete the request."
        )
        return renderers.render(request, problem)

    app.add_exception_handler(DothiError, on_dothi_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(Exception, on_unexpected)
