"""Photos of reports: type and size checked, re-encoded without EXIF, thumbnails; redaction.

Re-encoding drops every metadata block (EXIF GPS, camera serials) after turning the
image upright; the bytes live in the database with the report, as JPEG.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock
from dothi.errors import InvalidInput, NotFound
from dothi.reports.models import Photo, Report
from dothi.reports.schemas import Box, PhotoOut
from dothi.reports.service import report_for_citizen, shown_publicly, visible_report
from dothi.reports.views import shown_with_report

MAX_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 3
MAX_SIDE = 2048
THUMB_SIDE = 320
FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})  # MPO: a JPEG as many phones save it
MAX_PIXELS = 40_000_000
"""A decompression bomb (a tiny file of huge dimensions) is refused before it is decoded."""


def _jpeg(image: Image.Image, side: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((side, side))
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def clean(data: bytes) -> tuple[bytes, bytes, int, int]:
    """The photo as stored (upright JPEG, no metadata, at most 2048 px) and its thumbnail."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("A photo may be 8 MB at most.")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in FORMATS:
                raise InvalidInput("Photos must be JPEG, PNG or WebP.")
            if opened.width * opened.height > MAX_PIXELS:  # checked before decoding
                raise InvalidInput("This photo has too many pixels (40 megapixels at most).")
            upright = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInput("This file is not a photo that can be read.") from exc
    # A fresh image holds pixels only: no EXIF, ICC or XMP survives.
    bare = Image.new("RGB", upright.size)
    bare.paste(upright)
    stored = _jpeg(bare, MAX_SIDE)
    width, height = Image.open(io.BytesIO(stored)).size
    return stored, _jpeg(bare, THUMB_SIDE), width, height


def add_photo(
    session: Session, clock: Clock, report: Report, data: bytes, update_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Attach a photo to a report (the citizen's) or to one of its updates (an officer's):
    3 at most for each."""
    same = Photo.update_id.is_(None) if update_id is None else Photo.update_id == update_id
    count = select(func.count()).where(Photo.report_id == report.id, same)
    if (session.scalar(count) or 0) >= MAX_PHOTOS:
        raise InvalidInput("At most 3 photos may be attached.")
    stored, thumbnail, width, height = clean(data)
    photo = Photo(
        report_id=report.id,
        update_id=update_id,
        content_type="image/jpeg",
        data=stored,
        thumbnail=thumbnail,
        width=width,
        height=height,
        created_at=clock.now(),
    )
    session.add(photo)
    session.flush()
    return photo.id


def _read(session: Session, photo_id: uuid.UUID, thumbnail: bool, *where: Any) -> bytes:
    row = session.execute(
        select(Photo.thumbnail if thumbnail else Photo.data)
        .join(Report, Report.id == Photo.report_id)
        .where(Photo.id == photo_id, *where)
    ).first()
    if row is None:
        raise NotFound("No such photo.")
    return bytes(row[0])


def public_photo(session: Session, photo_id: uuid.UUID, *, thumbnail: bool = False) -> bytes:
    """A photo (or its thumbnail) anyone may see: of a public, unhidden report, itself not
    hidden (moderators hide a photo while it waits for redaction) nor of an internal note."""
    return _read(session, photo_id, thumbnail, shown_publicly(), shown_with_report())


def reporter_photo(
    session: Session, photo_id: uuid.UUID, token: str, *, thumbnail: bool = False
) -> bytes:
    """A shown photo of the report whose secret `token` the reporter holds (public or not)."""
    report_for_citizen(session, _code_of(session, photo_id), token)
    return _read(session, photo_id, thumbnail, shown_with_report())


def officer_photo(
    session: Session, actor: Principal, photo_id: uuid.UUID, *, thumbnail: bool = False
) -> bytes:
    """Any photo, hidden ones too, of a report the officer sees (`reports:read`)."""
    actor.require("reports:read")
    visible_report(session, actor, _code_of(session, photo_id))
    return _read(session, photo_id, thumbnail)


def _code_of(session: Session, photo_id: uuid.UUID) -> str:
    """The tracking code of the photo's report."""
    query = select(Report.tracking_code).join(Photo, Photo.report_id == Report.id)
    code = session.scalar(query.where(Photo.id == photo_id))
    if code is None:
        raise NotFound("No such photo.")
    return code


def list_photos(session: Session, report_id: uuid.UUID) -> list[PhotoOut]:
    """Every photo of a report with its size, oldest first (for officers and moderators)."""
    query = select(Photo).where(Photo.report_id == report_id).order_by(Photo.created_at)
    return [PhotoOut.model_validate(photo) for photo in session.scalars(query)]


def redact(photo: Photo, box: Box) -> None:
    """Black out a region (a face, a plate) of the photo and of its thumbnail, for good."""
    if (
        box.right > photo.width
        or box.bottom > photo.height
        or box.left >= box.right
        or box.top >= box.bottom
    ):
        raise InvalidInput("The region lies outside the photo.")
    with Image.open(io.BytesIO(photo.data)) as opened:
        image = opened.convert("RGB")
    ImageDraw.Draw(image).rectangle((box.left, box.top, box.right, box.bottom), fill="black")
    photo.data = _jpeg(image, MAX_SIDE)
    photo.thumbnail = _jpeg(image, THUMB_SIDE)
