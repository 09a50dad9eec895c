"""Who sees and acts on an incident: its ward decides, as for alarms (scope by ward)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dothi.accounts.orgunits import org_unit_places
from dothi.accounts.permissions import Principal
from dothi.accounts.units import in_scope
from dothi.errors import Forbidden, InvalidInput, NotFound
from dothi.incidents.models import Incident, IncidentLink
from dothi.incidents.vocab import IncidentStatus
from dothi.places.lookup import place_index
from dothi.places.service import unit_paths


def ward_path(session: Session, incident: Incident) -> str | None:
    """The materialized path of the incident's ward."""
    return unit_paths(session, [incident.admin_unit_id]).get(incident.admin_unit_id)


def visible_incident(
    session: Session, actor: Principal, incident_id: uuid.UUID, *, lock: bool = False
) -> Incident:
    """An incident of the actor's area (`incidents:read`); NotFound or Forbidden otherwise."""
    actor.require("incidents:read")
    incident = session.get(Incident, incident_id, with_for_update=lock)
    if incident is None:
        raise NotFound("No such incident.")
    actor.require_sight(ward_path(session, incident))
    return incident


def managed_incident(session: Session, actor: Principal, incident_id: uuid.UUID) -> Incident:
    """An incident of the actor's area that they coordinate (`incidents:manage`), locked."""
    actor.require("incidents:manage")
    return visible_incident(session, actor, incident_id, lock=True)


def incidents_in_sight(actor: Principal) -> ColumnElement[bool]:
    """SQL: incidents placed in the actor's scope."""
    return in_scope(Incident.admin_unit_id, actor)


def ward_of_point(
    session: Session, actor: Principal, lon: float, lat: float, day: date
) -> uuid.UUID:
    """The deepest unit the actor sees that covers the point on `day` (their ward there)."""
    covering = place_index(session).covering((lon, lat), day)
    if not covering:
        raise InvalidInput("This place is outside every administrative unit known.")
    seen = next((unit for unit in covering if actor.sees(unit.path)), None)
    if seen is None:
        raise Forbidden("This place is outside your area.")
    return seen.id


def check_units(session: Session, ids: list[uuid.UUID]) -> None:
    """InvalidInput unless every id is an organisational unit."""
    missing = set(ids) - set(org_unit_places(session, ids))
    if missing:
        raise InvalidInput(f"No such organisational unit: {', '.join(sorted(map(str, missing)))}.")


def open_incident_of(session: Session, kind: str, ref: str) -> uuid.UUID | None:
    """The open incident a cause is linked to already, if any."""
    query = (
        select(Incident.id)
        .join(IncidentLink, IncidentLink.incident_id == Incident.id)
        .where(
            IncidentLink.kind == kind,
            IncidentLink.ref == ref,
            Incident.status != IncidentStatus.CLOSED,
        )
    )
    return session.scalars(query.limit(1)).first()


def own_units(actor: Principal, coordinating: str) -> list[uuid.UUID] | None:
    """The units whose part the actor reads: None (every unit's) with the coordinating
    permission, else their own unit's only."""
    if actor.can(coordinating):
        return None
    return [actor.org_unit_id] if actor.org_unit_id is not None else []
