"""Photos of reports: type and size checked, re-encoded without EXIF, thumbnails; redaction.

Re-encoding drops every metadata block (EXIF GPS, camera serials) after turning the
image upright; the bytes live in the database with the report, as JPEG.
"""

from __future__ import annotations

import io
import uuid

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dothi.core.clock import Clock
from dothi.errors import InvalidInput, NotFound
from dothi.reports.models import Photo, Report
from dothi.reports.schemas import Box

MAX_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 3
MAX_SIDE = 2048
THUMB_SIDE = 320
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
Image.MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


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
    """Attach a photo to a report (3 from the citizen; officers add theirs to updates)."""
    if update_id is None:
        count = select(func.count()).where(Photo.report_id == report.id, Photo.update_id.is_(None))
        if (session.scalar(count) or 0) >= MAX_PHOTOS:
            raise InvalidInput("A report may have 3 photos at most.")
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


def photo_bytes(session: Session, photo_id: uuid.UUID, *, thumbnail: bool = False) -> bytes:
    """A public photo (or its thumbnail); hidden photos and those of hidden reports are not."""
    row = session.execute(
        select(Photo.thumbnail if thumbnail else Photo.data)
        .join(Report, Report.id == Photo.report_id)
        .where(
            Photo.id == photo_id, Photo.hidden.is_(False), Report.public, Report.hidden.is_(False)
        )
    ).first()
    if row is None:
        raise NotFound("No such photo.")
    return bytes(row[0])


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
