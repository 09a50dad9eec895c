"""NGSI-LD (ETSI GS CIM 009) under /ngsi-ld/v1: context entities and batch operations.

Temporal queries and subscriptions are in `ngsi_ld_temporal`. Paths are also
answered with a trailing slash, as some clients (ngsildclient) send them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from dothi.accounts.permissions import Principal
from dothi.errors import InvalidInput
from dothi.telemetry import entities
from dothi.telemetry.entities import Mode
from dothi.web.auth import require
from dothi.web.deps import ReadSession, WriteSession
from dothi.web.standards.ngsi_ld_common import (
    PREFIX,
    Count,
    Limit,
    Offset,
    Options,
    Reader,
    Selection,
    actor,
    answer,
    error_of,
    options_of,
    split,
)

router = APIRouter(prefix=PREFIX, tags=["ngsi-ld"])

Writer = Annotated[Principal, require("telemetry:write")]
EntityId = Annotated[str, Path(max_length=256, description="The entity's URI.")]
Document = Annotated[dict[str, Any], Body(description="An entity in NGSI-LD JSON(-LD).")]
Attributes = Annotated[dict[str, Any], Body(description="Attributes: name → value or Property.")]
Documents = Annotated[list[Any], Body(description="Entities (ids for delete).")]


@router.post("/entities", status_code=201)
@router.post("/entities/", include_in_schema=False)
def create_entity(
    request: Request, session: WriteSession, principal: Writer, document: Document
) -> Response:
    """Create an entity (409 AlreadyExists if its id is taken)."""
    entity = entities.create_entity(session, actor(request, principal), document)
    location = f"{PREFIX}/entities/{entity.id}"
    return Response(status_code=201, headers={"Location": location})


@router.get("/entities")
@router.get("/entities/", include_in_schema=False)
def query_entities(
    request: Request,
    session: ReadSession,
    principal: Reader,
    selection: Annotated[Selection, Depends()],
    limit: Limit = 20,
    offset: Offset = 0,
    count: Count = False,
    options: Options = None,
) -> Response:
    """Entities by type, id, idPattern, q and georel near, a page at a time."""
    flags = options_of(options, frozenset({"keyValues", "normalized", "sysAttrs"}))
    if limit == 0 and not count:
        raise InvalidInput("limit=0 is only allowed with count=true.")
    found, total = entities.query_entities(session, principal, selection.query(limit, offset))
    key_values = "keyValues" in flags
    body = [
        f.key_values(selection.attrs) if key_values else f.normalized(selection.attrs)
        for f in found
    ]
    return answer(request, body, count=total if count else None)


@router.get("/entities/{entity_id}")
def get_entity(
    request: Request,
    session: ReadSession,
    principal: Reader,
    entity_id: EntityId,
    attrs: Annotated[str | None, Query(max_length=2000)] = None,
    options: Options = None,
) -> Response:
    """One entity, normalized or keyValues."""
    flags = options_of(options, frozenset({"keyValues", "normalized", "sysAttrs"}))
    found = entities.get_entity(session, principal, entity_id)
    wanted = frozenset(split(attrs)) or None
    body = found.key_values(wanted) if "keyValues" in flags else found.normalized(wanted)
    return answer(request, body)


@router.delete("/entities/{entity_id}", status_code=204)
def delete_entity(
    request: Request, session: WriteSession, principal: Writer, entity_id: EntityId
) -> Response:
    """Delete an entity and its time series."""
    entities.delete_entity(session, actor(request, principal), entity_id)
    return Response(status_code=204)


@router.post("/entities/{entity_id}/attrs", status_code=204)
@router.post("/entities/{entity_id}/attrs/", include_in_schema=False)
def append_attributes(
    request: Request,
    session: WriteSession,
    principal: Writer,
    entity_id: EntityId,
    attributes: Attributes,
    options: Options = None,
) -> Response:
    """Add attributes, overwriting existing ones unless options=noOverwrite."""
    flags = options_of(options, frozenset({"noOverwrite"}))
    mode: Mode = "keep" if "noOverwrite" in flags else "append"
    skipped = entities.change_attributes(
        session, actor(request, principal), entity_id, attributes, mode
    )
    return _update_result(attributes, skipped, "exists already (noOverwrite)")


@router.patch("/entities/{entity_id}/attrs", status_code=204)
@router.patch("/entities/{entity_id}/attrs/", include_in_schema=False)
def update_attributes(
    request: Request,
    session: WriteSession,
    principal: Writer,
    entity_id: EntityId,
    attributes: Attributes,
) -> Response:
    """Change existing attributes; those the entity does not have are reported, not added."""
    skipped = entities.change_attributes(
        session, actor(request, principal), entity_id, attributes, "update"
    )
    return _update_result(attributes, skipped, "the entity has no such attribute")


def _update_result(attributes: dict[str, Any], skipped: list[str], reason: str) -> Response:
    """204 when every attribute was taken, else 207 with an UpdateResult."""
    if not skipped:
        return Response(status_code=204)
    updated = [name for name in attributes if name not in skipped and not name.startswith("@")]
    body = {
        "updated": [n for n in updated if n not in ("id", "type")],
        "notUpdated": [{"attributeName": name, "reason": reason} for name in skipped],
    }
    return JSONResponse(body, status_code=207)


_BATCH_OPTIONS = {
    "create": frozenset[str](),
    "upsert": frozenset({"update", "replace"}),
    "update": frozenset({"noOverwrite"}),
    "delete": frozenset[str](),
}


@router.post("/entityOperations/{operation}")
@router.post("/entityOperations/{operation}/", include_in_schema=False)
def batch_operation(
    request: Request,
    session: WriteSession,
    principal: Writer,
    operation: Annotated[str, Path(pattern="^(create|upsert|update|delete)$")],
    items: Documents,
    options: Options = None,
) -> Response:
    """Create, upsert, update or delete many entities; 207 lists the ones that failed."""
    flags = options_of(options, _BATCH_OPTIONS[operation])
    mode: Mode = "append"
    if operation == "upsert" and "update" not in flags:
        mode = "replace"
    if operation == "update" and "noOverwrite" in flags:
        mode = "keep"
    result = entities.run_batch(session, actor(request, principal), operation, items, mode)
    if result.errors:
        errors = [{"entityId": label, "error": error_of(error)} for label, error in result.errors]
        return JSONResponse({"success": result.success, "errors": errors}, status_code=207)
    if operation == "create" or (operation == "upsert" and result.created):
        return JSONResponse(result.created, status_code=201)
    return Response(status_code=204)
