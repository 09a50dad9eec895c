"""Organisational units: the bodies work is routed to, each working in one admin unit."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.models import OrgUnit
from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import OrgUnitCreate, OrgUnitOut, OrgUnitQuery, OrgUnitUpdate, Page
from dothi.accounts.units import in_scope, within_unit
from dothi.core.clock import Clock
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.service import unit_paths


@dataclass(frozen=True, slots=True)
class Place:
    """Where something is in the administrative tree."""

    admin_unit_id: uuid.UUID
    path: str


def org_unit_places(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Place]:
    """The place of each organisational unit among `ids`."""
    if not ids:
        return {}
    query = select(OrgUnit.id, OrgUnit.admin_unit_id).where(OrgUnit.id.in_(ids))
    units = dict(session.execute(query).all())
    paths = unit_paths(session, set(units.values()))
    return {org_id: Place(unit_id, paths[unit_id]) for org_id, unit_id in units.items()}


def admin_unit_place(session: Session, actor: Principal, admin_unit_id: uuid.UUID) -> Place:
    """The place of an admin unit the actor sees; InvalidInput/Forbidden otherwise."""
    path = unit_paths(session, [admin_unit_id]).get(admin_unit_id)
    if path is None:
        raise InvalidInput("No such administrative unit.")
    actor.require_sight(path)
    return Place(admin_unit_id, path)


def create_org_unit(
    session: Session, actor: Principal, data: OrgUnitCreate, clock: Clock
) -> OrgUnitOut:
    """Create an organisational unit inside the actor's scope."""
    actor.require("orgunits:write")
    place = admin_unit_place(session, actor, data.admin_unit_id)
    if session.scalar(select(OrgUnit.id).where(OrgUnit.code == data.code)) is not None:
        raise Conflict("An organisational unit with this code exists.")
    org_unit = OrgUnit(**data.model_dump())
    session.add(org_unit)
    session.flush()
    audit.record(
        session,
        clock,
        actor.username,
        "org_unit.create",
        object_type="org_unit",
        object_id=org_unit.id,
        admin_unit_id=place.admin_unit_id,
        detail={"code": org_unit.code},
    )
    return OrgUnitOut.model_validate(org_unit)


def get_org_unit(session: Session, actor: Principal, org_unit_id: uuid.UUID) -> OrgUnitOut:
    """One organisational unit in the actor's scope."""
    actor.require("orgunits:read")
    return OrgUnitOut.model_validate(_visible(session, actor, org_unit_id))


def list_org_units(session: Session, actor: Principal, query: OrgUnitQuery) -> Page[OrgUnitOut]:
    """Organisational units in the actor's scope, by code."""
    actor.require("orgunits:read")
    where = [in_scope(OrgUnit.admin_unit_id, actor)]
    if query.kind is not None:
        where.append(OrgUnit.kind == query.kind)
    if query.active is not None:
        where.append(OrgUnit.active == query.active)
    if query.ward is not None:
        where.append(within_unit(session, OrgUnit.admin_unit_id, query.ward))
    stmt = select(OrgUnit).where(*where).order_by(OrgUnit.code)
    return paginate(session, stmt, query, lambda rows: [OrgUnitOut.model_validate(r) for r in rows])


def update_org_unit(
    session: Session, actor: Principal, org_unit_id: uuid.UUID, data: OrgUnitUpdate, clock: Clock
) -> OrgUnitOut:
    """Change the fields given; moving a unit needs sight of both places, and both see the entry."""
    actor.require("orgunits:write")
    org_unit = _visible(session, actor, org_unit_id)
    changes = data.model_dump(exclude_none=True)
    if "admin_unit_id" in changes:
        admin_unit_place(session, actor, changes["admin_unit_id"])
    old_unit_id = org_unit.admin_unit_id
    for field, value in changes.items():
        setattr(org_unit, field, value)
    session.flush()
    action = "org_unit.deactivate" if changes.get("active") is False else "org_unit.update"
    audit.record_in(
        session,
        clock,
        actor.username,
        action,
        [old_unit_id, org_unit.admin_unit_id],
        object_type="org_unit",
        object_id=org_unit.id,
        detail={"changed": sorted(changes)},
    )
    return OrgUnitOut.model_validate(org_unit)


def _visible(session: Session, actor: Principal, org_unit_id: uuid.UUID) -> OrgUnit:
    org_unit = session.get(OrgUnit, org_unit_id)
    if org_unit is None:
        raise NotFound("No such organisational unit.")
    actor.require_sight(org_unit_places(session, [org_unit_id])[org_unit_id].path)
    return org_unit
