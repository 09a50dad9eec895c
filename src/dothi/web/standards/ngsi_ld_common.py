"""What the NGSI-LD routes share: ProblemDetails errors, the reader check, @context, answers.

We do not expand terms with a remote @context (a deployment may have no
internet): short names are taken as they are, whatever context the client names
in the body or in the `Link` header; answers carry back the context the client
gave, or the core context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from dothi.accounts.permissions import Principal
from dothi.config import Settings
from dothi.core.clock import Clock
from dothi.errors import DothiError, InvalidInput
from dothi.telemetry.entities import Actor, EntityQuery
from dothi.telemetry.query import parse_near, parse_q
from dothi.telemetry.representation import CORE_CONTEXT
from dothi.web.auth import guard, identify_caller
from dothi.web.errors import Problem

PREFIX = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
LD_JSON = "application/ld+json"
_ERROR_TYPES = {
    400: "BadRequestData",
    404: "ResourceNotFound",
    405: "OperationNotSupported",
    409: "AlreadyExists",
    422: "BadRequestData",
    500: "InternalError",
}
_LINK = re.compile(r'<([^>]+)>\s*;[^,]*rel="?' + re.escape(CONTEXT_REL))


def problem_details(status: int, code: str, title: str, detail: str) -> dict[str, Any]:
    """ProblemDetails with the NGSI-LD error type of a status (dothi's where NGSI-LD has none)."""
    kind = _ERROR_TYPES.get(status)
    return {
        "type": ERRORS + kind if kind else f"urn:dothi:error:{code}",
        "title": title,
        "status": 400 if status == 422 else status,
        "detail": detail,
    }


def render_problem(_request: Request, problem: Problem) -> Response:
    """The error renderer of /ngsi-ld/: invalid input is 400 BadRequestData, as NGSI-LD says."""
    body = problem_details(problem.status, problem.code, problem.title, problem.detail)
    return JSONResponse(body, status_code=body["status"], media_type="application/json")


def error_of(error: DothiError) -> dict[str, Any]:
    """A per-entity failure of a batch, as ProblemDetails."""
    return problem_details(error.status, error.code, type(error).__name__, error.message)


@guard
async def reader(request: Request) -> Principal:
    """The caller, if they may read context data (anyone, when the deployment publishes it)."""
    principal = (await identify_caller(request)).principal
    settings: Settings = request.app.state.settings
    if principal.is_authenticated or not settings.public_context_data:
        principal.require("telemetry:read")
    return principal


Reader = Annotated[Principal, Depends(reader)]


def actor(request: Request, principal: Principal) -> Actor:
    settings: Settings = request.app.state.settings
    clock: Clock = request.app.state.clock
    return Actor(principal, clock.now(), settings.timezone, settings.root_unit)


def context_of(request: Request, body: Any = None) -> Any:
    """The @context the client gave, in the body or in a Link header; else the core context."""
    if isinstance(body, Mapping) and "@context" in body:
        return body["@context"]
    found = _LINK.search(request.headers.get("link", ""))
    return found.group(1) if found else CORE_CONTEXT


def answer(request: Request, body: Any, *, count: int | None = None) -> Response:
    """JSON-LD (with @context in each entity) when asked for, else JSON with a Link header.

    `count` (the number of matches, when asked for) goes in the NGSILD-Results-Count header.
    """
    headers = {"NGSILD-Results-Count": str(count)} if count is not None else {}
    context = context_of(request)
    if LD_JSON in request.headers.get("accept", ""):
        if isinstance(body, list):
            body = [{**item, "@context": context} for item in body]
        elif isinstance(body, dict):
            body = {**body, "@context": context}
        return JSONResponse(body, headers=headers, media_type=LD_JSON)
    link = context if isinstance(context, str) else CORE_CONTEXT
    headers["Link"] = f'<{link}>; rel="{CONTEXT_REL}"; type="{LD_JSON}"'
    return JSONResponse(body, headers=headers)


def split(text: str | None) -> tuple[str, ...]:
    """A comma-separated list parameter."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def options_of(text: str | None, allowed: frozenset[str]) -> frozenset[str]:
    """The `options` parameter, refusing ones we do not know."""
    options = frozenset(split(text))
    unknown = options - allowed
    if unknown:
        raise InvalidInput(f"Unknown options: {', '.join(sorted(unknown))}.")
    return options


Options = Annotated[
    str | None, Query(max_length=200, description="Comma-separated, e.g. keyValues.")
]
Limit = Annotated[int, Query(ge=0, le=1000, description="Entities per page (0 with count=true).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Count = Annotated[bool, Query(description="Send the number of matches in NGSILD-Results-Count.")]


class Selection:
    """Which entities a query names: the parameters shared by /entities and /temporal/entities."""

    def __init__(
        self,
        type: Annotated[
            str | None, Query(max_length=1000, description="Types, comma-separated.")
        ] = None,
        id: Annotated[
            str | None, Query(max_length=10_000, description="Entity ids, comma-separated.")
        ] = None,
        id_pattern: Annotated[str | None, Query(alias="idPattern", max_length=200)] = None,
        q: Annotated[
            str | None, Query(max_length=2000, description="NGSI-LD query language.")
        ] = None,
        attrs: Annotated[
            str | None, Query(max_length=2000, description="Attributes to return.")
        ] = None,
        georel: Annotated[
            str | None, Query(max_length=100, description="near;maxDistance==<metres>")
        ] = None,
        geometry: Annotated[str | None, Query(max_length=20, description="Point")] = None,
        coordinates: Annotated[str | None, Query(max_length=100, description="[lon,lat]")] = None,
    ) -> None:
        self.types = split(type)
        self.ids = split(id)
        self.id_pattern = id_pattern
        self.q = q
        self.attrs = frozenset(split(attrs)) or None
        self.georel = georel
        self.geometry = geometry
        self.coordinates = coordinates

    def query(self, limit: int, offset: int) -> EntityQuery:
        """The entity query, checked (InvalidInput names what is wrong)."""
        pattern = None
        if self.id_pattern is not None:
            try:
                pattern = re.compile(self.id_pattern)
            except re.error as error:
                raise InvalidInput(f"idPattern is not a regular expression: {error}.") from None
        near = None
        if self.georel is not None:
            near = parse_near(self.georel, self.geometry, self.coordinates)
        return EntityQuery(
            types=self.types,
            ids=self.ids,
            id_pattern=pattern,
            q=parse_q(self.q) if self.q is not None else None,
            near=near,
            limit=limit,
            offset=offset,
        )
