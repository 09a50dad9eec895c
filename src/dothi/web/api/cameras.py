"""/api/v1 for cameras: the registry of one's area (JSON, CSV import), recorders, health and
availability, and how much of the main roads the cameras watch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.cameras import service
from dothi.cameras.csvio import read_cameras_csv
from dothi.cameras.health import Availability, availability, source_of
from dothi.cameras.schemas import CameraIn, CameraOut, Purpose, RecorderIn, RecorderOut
from dothi.cameras.snapshots import CameraUnreachable, SnapshotCache, fetch
from dothi.core.clock import as_utc, local_date
from dothi.errors import InvalidInput
from dothi.places.service import get_unit
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep, get_database, run_write

router = APIRouter(prefix="/api/v1", tags=["cameras"])

Reader = Annotated[Principal, require("cameras:read")]
Manager = Annotated[Principal, require("cameras:manage")]
MAX_CSV = 2 << 20  # bytes
MAX_PERIOD = timedelta(days=92)
NOT_KEPT = {"Cache-Control": "no-store"}
KEPT_A_LITTLE = {"Cache-Control": "private, max-age=10"}
_snapshots = SnapshotCache()


class Imported(BaseModel):
    created: int
    updated: int


class ShareOut(BaseModel):
    ward: str | None
    length_m: float
    watched_m: float
    ratio: float | None


class CoverageOut(BaseModel):
    total: ShareOut
    wards: list[ShareOut]
    watched: dict[str, Any]  # GeoJSON geometry of the watched road lines


class AvailabilityOut(BaseModel):
    code: str | None
    ward: str | None
    online_minutes: float
    expected_minutes: float
    ratio: float | None


class AvailabilityReport(BaseModel):
    start: datetime
    end: datetime
    cameras: list[AvailabilityOut]
    wards: list[AvailabilityOut]


@router.get("/cameras")
def list_cameras(
    session: ReadSession,
    actor: Reader,
    clock: ClockDep,
    settings: SettingsDep,
    ward: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006 - FastAPI copies it
    purpose: Purpose | None = None,
    health: Annotated[str | None, Query(pattern="^(unknown|online|degraded|offline)$")] = None,
    active: bool | None = None,
) -> list[CameraOut]:
    """The cameras of one's area, by code, without credentials or source URLs."""
    query = service.CameraQuery(ward, purpose, health, active)
    day = local_date(clock.now(), settings.timezone)
    return [
        service.camera_out(session, c) for c in service.list_cameras(session, actor, query, day)
    ]


@router.get("/cameras/{code}")
def get_camera(code: str, session: ReadSession, actor: Reader) -> CameraOut:
    return service.camera_out(session, service.get_camera(session, actor, code))


@router.put("/cameras/{code}", responses={201: {"description": "Created"}})
async def put_camera(
    code: str,
    data: CameraIn,
    request: Request,
    response: Response,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Manager,
) -> CameraOut:
    """Create the camera or replace it; its ward is the one its point lies in."""
    if data.code != code:
        raise InvalidInput(f"The body's code {data.code!r} is not the address's {code!r}.")

    def save(session: Session) -> tuple[CameraOut, bool]:
        camera, created = service.save_camera(session, actor, data, clock, settings.timezone)
        return service.camera_out(session, camera), created

    answer, created = await run_write(request, save)
    response.status_code = 201 if created else 200
    return answer


@router.delete("/cameras/{code}", status_code=204)
async def delete_camera(code: str, request: Request, clock: ClockDep, actor: Manager) -> None:
    await run_write(request, lambda session: service.delete_camera(session, actor, code, clock))


@router.post("/cameras/import", openapi_extra={"requestBody": {"content": {"text/csv": {}}}})
async def import_cameras(
    request: Request, clock: ClockDep, settings: SettingsDep, actor: Manager
) -> Imported:
    """Create or replace the cameras of a CSV document (`text/csv`, UTF-8), all or none."""
    body = await request.body()
    if len(body) > MAX_CSV:
        raise InvalidInput(f"The CSV document is larger than {MAX_CSV >> 20} MiB.")
    try:
        rows = read_cameras_csv(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("The CSV document is not UTF-8 text.") from None
    done = await run_write(
        request,
        lambda session: service.import_cameras(session, actor, rows, clock, settings.timezone),
    )
    return Imported(created=done.created, updated=done.updated)


@router.get(
    "/cameras/{code}/snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 502: {"description": "Camera unreachable"}},
)
def snapshot(
    code: str,
    request: Request,
    actor: Reader,
    clock: ClockDep,
    original: Annotated[
        bool, Query(description="Unblurred (`cameras:originals`, audited)")
    ] = False,
) -> Response:
    """The camera's picture now, faces and plates pixelated (kept 10 s for other viewers).

    The original is for those whose role allows it; each view is in the audit log, and it
    is neither kept nor cached.
    """
    database = get_database(request)
    with database.read() as session:  # not held while the camera answers
        camera = service.get_camera(session, actor, code)
        source, place = source_of(camera), camera.admin_unit_id
    if original:
        actor.require("cameras:originals")
        with database.write() as session:
            audit.record(
                session,
                clock,
                actor.username,
                "camera.original_viewed",
                object_type="camera",
                object_id=source.id,
                admin_unit_id=place,
                detail={"code": code},
            )
        return Response(fetch(source), media_type="image/jpeg", headers=NOT_KEPT)
    picture = _snapshots.get(code, lambda: _redacted(fetch(source)))
    return Response(
        picture, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=10"}
    )


def _redacted(picture: bytes) -> bytes:
    from dothi.detectors.privacy import redact_picture  # OpenCV loads at the first snapshot

    try:
        return redact_picture(picture)
    except ValueError as error:
        raise CameraUnreachable(f"The camera sent something that is {error}.") from error


@router.get("/camera-recorders")
def list_recorders(session: ReadSession, actor: Reader) -> list[RecorderOut]:
    """The ward recorders (NVRs) of one's area, with their cameras online."""
    return service.list_recorders(session, actor)


@router.put("/camera-recorders/{code}")
async def put_recorder(
    code: str,
    data: RecorderIn,
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Manager,
) -> RecorderOut:
    if data.code != code:
        raise InvalidInput(f"The body's code {data.code!r} is not the address's {code!r}.")
    """Create or replace a ward's recorder."""

    def save(session: Session) -> RecorderOut:
        service.save_recorder(session, actor, data, clock, settings.timezone)
        return next(r for r in service.list_recorders(session, actor) if r.code == code)

    return await run_write(request, save)


@router.get("/camera-coverage")
def coverage(
    session: ReadSession, actor: Reader, clock: ClockDep, settings: SettingsDep
) -> CoverageOut:
    """The share of the main roads inside some active camera's field of view, per ward and
    in all, with the watched lines as GeoJSON."""
    found = service.road_coverage_of(session, actor, local_date(clock.now(), settings.timezone))
    total = found.total
    return CoverageOut(
        total=ShareOut(
            ward=None, length_m=total.length_m, watched_m=total.watched_m, ratio=total.ratio
        ),
        wards=[
            ShareOut(ward=code, length_m=s.length_m, watched_m=s.watched_m, ratio=s.ratio)
            for code, s in sorted(found.wards.items())
        ],
        watched=dict(mapping(found.watched)),
    )


@router.get("/camera-availability")
def camera_availability(
    session: ReadSession,
    actor: Reader,
    clock: ClockDep,
    settings: SettingsDep,
    start: datetime | None = None,
    end: datetime | None = None,
) -> AvailabilityReport:
    """Minutes online ÷ minutes expected per camera and per ward (default: the last 24 h)."""
    until = as_utc(end) if end else clock.now()
    since = as_utc(start) if start else until - timedelta(days=1)
    if not since < until or until - since > MAX_PERIOD:
        raise InvalidInput("start must come before end, at most 92 days earlier.")
    day = local_date(clock.now(), settings.timezone)
    cameras = service.list_cameras(session, actor, service.CameraQuery(active=True), day)
    found = availability(session, [c.id for c in cameras], since, until)
    per_ward: dict[str | None, Availability] = {}
    rows = []
    for camera in cameras:
        ward = get_unit(session, camera.admin_unit_id).code if camera.admin_unit_id else None
        share = found[camera.id]
        rows.append(_availability_out(camera.code, ward, share))
        total = per_ward.get(ward, Availability(0.0, 0.0))
        per_ward[ward] = Availability(
            total.online_minutes + share.online_minutes,
            total.expected_minutes + share.expected_minutes,
        )
    wards = sorted(per_ward.items(), key=lambda item: item[0] or "")
    return AvailabilityReport(
        start=since,
        end=until,
        cameras=rows,
        wards=[_availability_out(None, ward, share) for ward, share in wards],
    )


def _availability_out(code: str | None, ward: str | None, share: Availability) -> AvailabilityOut:
    return AvailabilityOut(
        code=code,
        ward=ward,
        online_minutes=share.online_minutes,
        expected_minutes=share.expected_minutes,
        ratio=share.ratio,
    )
