"""The camera registry: cameras and recorders created, replaced, removed and listed within
one's area, imported from CSV all or none; every change audited.

A camera's ward is the ward covering its point on the day it is written. Credentials
stay in the database: `camera_out` answers without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.accounts.units import in_scope
from dothi.cameras.coverage import Coverage, View, road_coverage
from dothi.cameras.models import Camera, Health, Recorder
from dothi.cameras.schemas import CameraIn, CameraOut, RecorderIn, RecorderOut
from dothi.core.clock import Clock, local_date
from dothi.core.documents import ImportResult
from dothi.errors import Forbidden, InvalidInput, NotFound
from dothi.places.lookup import locate
from dothi.places.roads import main_roads
from dothi.places.service import get_unit, unit_ids_by_code, wards_within


@dataclass(frozen=True, slots=True)
class CameraQuery:
    """Filters of a camera list: ward codes, purpose, health, active."""

    wards: Sequence[str] = ()
    purpose: str | None = None
    health: str | None = None
    active: bool | None = None


def list_cameras(session: Session, actor: Principal, query: CameraQuery, day: date) -> list[Camera]:
    """The cameras of the actor's area that pass the filters, by code."""
    statement = select(Camera).where(in_scope(Camera.admin_unit_id, actor))
    if query.wards:
        ids = unit_ids_by_code(session, query.wards, day)
        if unknown := sorted(set(query.wards) - ids.keys()):
            raise InvalidInput(f"No ward has the code {', '.join(unknown)}.")
        statement = statement.where(Camera.admin_unit_id.in_(ids.values()))
    if query.health is not None:
        statement = statement.where(Camera.health == query.health)
    if query.active is not None:
        statement = statement.where(Camera.active == query.active)
    cameras = list(session.scalars(statement.order_by(Camera.code)))
    if query.purpose is not None:
        cameras = [camera for camera in cameras if query.purpose in camera.purposes]
    return cameras


def cameras_in(session: Session, ward_ids: Sequence[uuid.UUID]) -> list[Camera]:
    """The active cameras placed in these wards, by code (the caller checked the scope)."""
    query = select(Camera).where(Camera.active, Camera.admin_unit_id.in_(ward_ids))
    return list(session.scalars(query.order_by(Camera.code)))


def get_camera(session: Session, actor: Principal, code: str) -> Camera:
    """One camera of the actor's area; NotFound for others' too (their codes are not told)."""
    camera = session.scalar(select(Camera).where(Camera.code == code))
    if camera is None or not actor.sees(_path(session, camera.admin_unit_id)):
        raise NotFound(f"No camera has the code {code!r}.")
    return camera


def save_camera(
    session: Session, actor: Principal, data: CameraIn, clock: Clock, zone: str
) -> tuple[Camera, bool]:
    """Create the camera or replace the one with its code; True when created."""
    day = local_date(clock.now(), zone)
    ward = locate(session, data.lon, data.lat, day)
    _check_sight(session, actor, ward.id if ward else None)
    camera = session.scalar(select(Camera).where(Camera.code == data.code))
    created = camera is None
    if camera is None:
        camera = Camera(code=data.code, created_at=clock.now())
    else:
        _check_sight(session, actor, camera.admin_unit_id)
    _fill(session, camera, data, ward.id if ward else None)
    session.add(camera)
    session.flush()
    _audit(session, actor, clock, "camera.create" if created else "camera.replace", camera)
    return camera, created


def delete_camera(session: Session, actor: Principal, code: str, clock: Clock) -> None:
    """Remove a camera of the actor's area (its health history goes with it)."""
    camera = get_camera(session, actor, code)
    _audit(session, actor, clock, "camera.delete", camera)
    session.delete(camera)


def import_cameras(
    session: Session, actor: Principal, rows: Iterable[CameraIn], clock: Clock, zone: str
) -> ImportResult:
    """Save every camera of an import; the caller's transaction makes it all or none."""
    created = updated = 0
    for data in rows:
        _, new = save_camera(session, actor, data, clock, zone)
        created, updated = created + new, updated + (not new)
    return ImportResult(created, updated)


def camera_out(session: Session, camera: Camera) -> CameraOut:
    """What a camera looks like to its readers: no credentials, no source URLs."""
    ward = get_unit(session, camera.admin_unit_id) if camera.admin_unit_id else None
    recorder = session.get(Recorder, camera.recorder_id) if camera.recorder_id else None
    return CameraOut(
        code=camera.code,
        name=camera.name,
        ward=ward.code if ward else None,
        ward_name=ward.name if ward else None,
        lon=camera.lon,
        lat=camera.lat,
        heading=camera.heading,
        field_of_view=camera.field_of_view,
        range_m=camera.range_m,
        purposes=list(camera.purposes),
        recorder=recorder.code if recorder else None,
        has_stream=camera.stream_url is not None,
        has_snapshot=camera.snapshot_url is not None,
        analysed=bool(camera.analytics.get("enabled")),
        active=camera.active,
        health=camera.health,
        health_since=camera.health_since,
        last_probe_at=camera.last_probe_at,
        last_error=camera.last_error,
    )


def road_coverage_of(session: Session, actor: Principal, day: date) -> Coverage:
    """How much of the main roads the active cameras of the actor's area watch, per ward."""
    cameras = list_cameras(session, actor, CameraQuery(active=True), day)
    views = [View(c.lon, c.lat, c.heading, c.field_of_view, c.range_m) for c in cameras]
    wards = {
        unit.code: unit.boundary
        for unit in wards_within(session, actor.scope_paths, day)
        if unit.boundary
    }
    return road_coverage(views, [road.line for road in main_roads()], wards)


def save_recorder(
    session: Session, actor: Principal, data: RecorderIn, clock: Clock, zone: str
) -> Recorder:
    """Create or replace a recorder (by code) in one of the actor's wards."""
    ward_id = None
    if data.ward is not None:
        ids = unit_ids_by_code(session, [data.ward], local_date(clock.now(), zone))
        if data.ward not in ids:
            raise InvalidInput(f"No ward has the code {data.ward!r}.")
        ward_id = ids[data.ward]
    _check_sight(session, actor, ward_id)
    recorder = session.scalar(select(Recorder).where(Recorder.code == data.code))
    if recorder is None:
        recorder = Recorder(code=data.code)
        session.add(recorder)
    else:
        _check_sight(session, actor, recorder.admin_unit_id)
    recorder.name, recorder.admin_unit_id, recorder.address = data.name, ward_id, data.address
    session.flush()
    audit.record(
        session,
        clock,
        actor.username,
        "camera_recorder.save",
        object_type="camera_recorder",
        object_id=recorder.id,
        admin_unit_id=ward_id,
        detail={"code": recorder.code},
    )
    return recorder


def list_recorders(session: Session, actor: Principal) -> list[RecorderOut]:
    """The recorders of the actor's area with their cameras counted."""
    online = func.count().filter(Camera.health == Health.ONLINE)
    counts = {
        recorder_id: (total, up)
        for recorder_id, total, up in session.execute(
            select(Camera.recorder_id, func.count(), online).group_by(Camera.recorder_id)
        )
    }
    recorders = session.scalars(
        select(Recorder).where(in_scope(Recorder.admin_unit_id, actor)).order_by(Recorder.code)
    )
    return [
        RecorderOut(
            code=r.code,
            name=r.name,
            ward=get_unit(session, r.admin_unit_id).code if r.admin_unit_id else None,
            cameras=counts.get(r.id, (0, 0))[0],
            online=counts.get(r.id, (0, 0))[1],
        )
        for r in recorders
    ]


def _fill(session: Session, camera: Camera, data: CameraIn, ward_id: uuid.UUID | None) -> None:
    recorder_id = None
    if data.recorder is not None:
        recorder_id = session.scalar(select(Recorder.id).where(Recorder.code == data.recorder))
        if recorder_id is None:
            raise InvalidInput(f"No recorder has the code {data.recorder!r}.")
    fields: dict[str, Any] = {
        "name": data.name,
        "admin_unit_id": ward_id,
        "lon": data.lon,
        "lat": data.lat,
        "heading": data.heading,
        "field_of_view": data.field_of_view,
        "range_m": data.range_m,
        "purposes": list(data.purposes),
        "recorder_id": recorder_id,
        "stream_url": str(data.stream_url) if data.stream_url else None,
        "snapshot_url": str(data.snapshot_url) if data.snapshot_url else None,
        "username": data.username,
        "password": data.password.get_secret_value() if data.password else None,
        "analytics": data.analytics,
        "active": data.active,
    }
    for name, value in fields.items():
        setattr(camera, name, value)


def _path(session: Session, unit_id: uuid.UUID | None) -> str | None:
    return get_unit(session, unit_id).path if unit_id else None


def _check_sight(session: Session, actor: Principal, unit_id: uuid.UUID | None) -> None:
    if not actor.sees(_path(session, unit_id)):
        raise Forbidden("This place is outside your area.")


def _audit(session: Session, actor: Principal, clock: Clock, action: str, camera: Camera) -> None:
    audit.record(
        session,
        clock,
        actor.username,
        action,
        object_type="camera",
        object_id=camera.id,
        admin_unit_id=camera.admin_unit_id,
        detail={"code": camera.code},
    )
