"""The audit log: an append-only hash chain, and the check that it is intact.

Entry n stores `hash = sha256(prev_hash || canonical JSON of its fields)` with
`prev_hash` the hash of entry n-1 (`GENESIS` for the first). Changing, removing
or reordering a row breaks the chain at that row. Writers take a lock for the
rest of their transaction, so two of them never append to the same link:
`pg_advisory_xact_lock` on PostgreSQL; SQLite has one writer (BEGIN IMMEDIATE).
Record the entry late in a transaction: the lock is held until commit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dothi.accounts.models import AuditEntry
from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import AuditEntryOut, AuditQuery, Page
from dothi.accounts.units import in_scope, within_unit
from dothi.core.clock import Clock, as_utc
from dothi.errors import NotFound
from dothi.places.service import unit_paths

GENESIS = "0" * 64
_LOCK_KEY = 0x646F746869_AD  # "dothi" + AD: one advisory lock for the whole chain
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The verdict on the chain: OK with the number of entries, or the first broken one.

    `head_found` answers whether an expected head hash is in the chain (None when
    none was given): without it, removing the newest entries leaves a valid chain.
    """

    checked: int
    last_hash: str
    broken_id: int | None = None
    reason: str | None = None
    head_found: bool | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None and self.head_found is not False


def record(
    session: Session,
    clock: Clock,
    actor: str,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    admin_unit_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry (flushed, not committed).

    `detail` holds plain JSON (strings, integers, booleans, lists, objects) and
    never personal values: name the field that was read, not its content.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=last.id + 1 if last else 1,
        at=as_utc(clock.now()),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        admin_unit_id=admin_unit_id,
        # Stored as it reads back, so the hash covers exactly what the database holds.
        detail=json.loads(json.dumps(detail or {})),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def record_in(
    session: Session,
    clock: Clock,
    actor: str,
    action: str,
    admin_unit_ids: Iterable[uuid.UUID | None],
    *,
    object_type: str,
    object_id: object,
    detail: dict[str, Any],
) -> None:
    """`record` the event once for each distinct place it concerns (a move: the old and the new).

    Each place's officers see the entry about their place in their scoped log.
    """
    for admin_unit_id in dict.fromkeys(admin_unit_ids):
        record(
            session,
            clock,
            actor,
            action,
            object_type=object_type,
            object_id=object_id,
            admin_unit_id=admin_unit_id,
            detail=detail,
        )


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry, given its fields and `prev_hash`."""
    return _chain_hash(entry.prev_hash, _fields(entry))


def _chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return _canonical(
        entry.id,
        entry.at,
        entry.actor,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.admin_unit_id,
        entry.detail,
    )


def _canonical(
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    admin_unit_id: uuid.UUID | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "admin_unit_id": None if admin_unit_id is None else str(admin_unit_id),
        "detail": detail,
    }


def verify(session: Session, head: str | None = None) -> VerifyResult:
    """Walk the chain in order, streaming, and report the first entry that does not fit.

    With `head` (a hash noted earlier, e.g. in a daily report), also tell whether
    the chain still holds that entry: if not, its end was cut off (or rewritten).
    """
    rows = session.execute(
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.object_type,
            AuditEntry.object_id,
            AuditEntry.admin_unit_id,
            AuditEntry.detail,
            AuditEntry.prev_hash,
            AuditEntry.hash,
        ).order_by(AuditEntry.id),
        execution_options={"yield_per": _BATCH},
    )
    expected_id, prev_hash = 1, GENESIS
    found_head = head == GENESIS
    for row in rows:
        *fields, stored_prev, stored_hash = row
        broken = _why_broken(row.id, expected_id, prev_hash, stored_prev, stored_hash, fields)
        if broken:
            rows.close()
            return VerifyResult(expected_id - 1, prev_hash, broken_id=row.id, reason=broken)
        expected_id, prev_hash = row.id + 1, stored_hash
        found_head = found_head or stored_hash == head
    return VerifyResult(expected_id - 1, prev_hash, head_found=None if head is None else found_head)


def _why_broken(
    entry_id: int,
    expected_id: int,
    prev_hash: str,
    stored_prev: str,
    stored_hash: str,
    fields: list[Any],
) -> str | None:
    if entry_id != expected_id:
        return f"gap: entries {expected_id}..{entry_id - 1} are missing"
    if stored_prev != prev_hash:
        return "prev_hash mismatch: it is not the hash of the entry before"
    if _chain_hash(stored_prev, _canonical(*fields)) != stored_hash:
        return "hash mismatch: the entry was changed after it was written"
    return None


def list_entries(session: Session, actor: Principal, query: AuditQuery) -> Page[AuditEntryOut]:
    """Entries about places in the actor's scope, newest first."""
    actor.require("audit:read")
    where = [in_scope(AuditEntry.admin_unit_id, actor)]
    for column, value in (
        (AuditEntry.action, query.action),
        (AuditEntry.actor, query.actor),
        (AuditEntry.object_type, query.object_type),
        (AuditEntry.object_id, query.object_id),
    ):
        if value is not None:
            where.append(column == value)
    if query.ward is not None:
        where.append(within_unit(session, AuditEntry.admin_unit_id, query.ward))
    if query.since is not None:
        where.append(AuditEntry.at >= query.since)
    if query.until is not None:
        where.append(AuditEntry.at < query.until)
    stmt = select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
    return paginate(session, stmt, query, _entry_outs)


def get_entry(session: Session, actor: Principal, entry_id: int) -> AuditEntryOut:
    """One entry, if it is about a place in the actor's scope."""
    actor.require("audit:read")
    entry = session.get(AuditEntry, entry_id)
    if entry is None:
        raise NotFound("No such audit entry.")
    unit = entry.admin_unit_id
    actor.require_sight(unit_paths(session, [unit]).get(unit) if unit else None)
    return AuditEntryOut.model_validate(entry)


def _entry_outs(entries: Sequence[AuditEntry]) -> list[AuditEntryOut]:
    return [AuditEntryOut.model_validate(entry) for entry in entries]


def head(session: Session) -> str | None:
    """The hash of the newest entry: note it elsewhere, and a removed tail shows."""
    return session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))


def known_actions(session: Session) -> list[str]:
    """The actions the log holds, for filters."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
