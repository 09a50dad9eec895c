"""/api/v1/audit: the audit log of your scope (entries are addressed by their chain number)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import AuditEntryOut, AuditQuery, Page
from dothi.web.auth import require
from dothi.web.deps import ReadSession

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, require("audit:read")]
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The entry's chain number.")]


@router.get("")
def list_entries(
    session: ReadSession, actor: Auditor, query: Annotated[AuditQuery, Query()]
) -> Page[AuditEntryOut]:
    """Entries about places in your scope, newest first."""
    return audit.list_entries(session, actor, query)


@router.get("/{entry_id}")
def get_entry(session: ReadSession, actor: Auditor, entry_id: EntryId) -> AuditEntryOut:
    """One entry; 403 when it is about a place outside your scope."""
    return audit.get_entry(session, actor, entry_id)
