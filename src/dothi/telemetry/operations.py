"""Operating the telemetry: dead letters to inspect, commands to devices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock
from dothi.errors import NotFound
from dothi.places.service import unit_paths
from dothi.telemetry.access import check_command
from dothi.telemetry.models import DeadLetter, DeviceCommand, Entity
from dothi.telemetry.placing import entity_path


def dead_letters(
    principal: Principal, source: str | None = None, since: datetime | None = None
) -> Select[DeadLetter]:
    """The dead letters to show, newest first (they carry no place: whole-tree scope only)."""
    principal.require("telemetry:manage")
    principal.require_sight(None)
    query = select(DeadLetter).order_by(DeadLetter.received_at.desc(), DeadLetter.id)
    if source:
        query = query.where(DeadLetter.source == source)
    if since:
        query = query.where(DeadLetter.received_at >= since)
    return query


def dead_letter_counts(session: Session) -> dict[str, int]:
    """How many messages each source had refused, ever (for the metrics)."""
    rows = session.execute(
        select(DeadLetter.source, func.count()).group_by(DeadLetter.source)
    ).all()
    return {source: int(count) for source, count in rows}


def issue_command(
    session: Session,
    principal: Principal,
    entity_id: str,
    name: str,
    arguments: dict[str, Any],
    clock: Clock,
) -> DeviceCommand:
    """Record a command to a device (sent by the caller), and who gave it, in the audit log."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"No entity {entity_id!r}.")
    check_command(principal, entity_path(session, entity))
    command = DeviceCommand(
        entity_id=entity.id,
        name=name,
        arguments=arguments,
        issued_by=principal.username,
        issued_at=clock.now(),
    )
    session.add(command)
    session.flush()
    audit.record(
        session,
        clock,
        principal.username,
        "device.command",
        object_type="entity",
        object_id=entity.id,
        admin_unit_id=entity.admin_unit_id,
        detail={"command": name, "arguments": arguments},
    )
    return command


def mark_sent(
    session: Session, command_id: uuid.UUID, at: datetime | None, status: str
) -> DeviceCommand:
    """Note how sending a command went: `sent` with its time, or why it was not."""
    command = session.get(DeviceCommand, command_id)
    if command is None:
        raise NotFound("No such command.")
    command.sent_at, command.status = at, status
    session.flush()
    return command


def commands_of(session: Session, principal: Principal, entity_id: str) -> Sequence[DeviceCommand]:
    """The commands sent to an entity, newest first."""
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"No entity {entity_id!r}.")
    check_command(principal, entity_path(session, entity))
    return session.scalars(
        select(DeviceCommand)
        .where(DeviceCommand.entity_id == entity_id)
        .order_by(DeviceCommand.issued_at.desc())
        .limit(100)
    ).all()


def writable_entity_ids(session: Session, principal: Principal) -> list[str]:
    """The entities a principal may write: of its types, in its wards; sorted."""
    rows = session.execute(select(Entity.id, Entity.type, Entity.admin_unit_id).order_by(Entity.id))
    entities = [(entity_id, kind, unit) for entity_id, kind, unit in rows]
    paths = unit_paths(session, {unit for _, _, unit in entities if unit is not None})
    return [
        entity_id
        for entity_id, kind, unit in entities
        if principal.writes_type(kind) and principal.sees(paths.get(unit) if unit else None)
    ]
