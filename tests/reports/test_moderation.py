"""Photos (checked, without EXIF, thumbnails) and moderation (hide, edit, redact, history)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput, NotFound
from dothi.reports import moderation, service, workflow
from dothi.reports.models import Photo
from dothi.reports.photos import add_photo, officer_photo, public_photo, reporter_photo
from dothi.reports.schemas import Box, PublicQuery, Region, StateChange
from tests.reports.helpers import District, actor, submit


def _photo(fmt: str = "JPEG", size: tuple[int, int] = (3000, 2000)) -> bytes:
    image = Image.new("RGB", size, "white")
    exif = Image.Exif()
    exif[0x010F] = "Máy ảnh của người dân"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90°
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def test_photos_are_upright_without_exif_small_and_limited_to_three(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = submit(demo_db, district, clock).tracking_code
    with demo_db.write() as session:
        report = service.report_by_code(session, code)
        ids = [add_photo(session, clock, report, _photo()) for _ in range(3)]
        with pytest.raises(InvalidInput, match="3 photos"):
            add_photo(session, clock, report, _photo())
        update_id = (
            service.get_report(session, actor(demo_db, "officer.p9"), code, clock).updates[0].id
        )
        with pytest.raises(InvalidInput, match="JPEG, PNG or WebP"):
            add_photo(session, clock, report, _photo("BMP", (40, 30)), update_id=update_id)
        with pytest.raises(InvalidInput, match="not a photo"):
            add_photo(session, clock, report, b"<script>", update_id=update_id)
    with demo_db.read() as session:
        stored = Image.open(io.BytesIO(public_photo(session, ids[0])))
        thumb = Image.open(io.BytesIO(public_photo(session, ids[0], thumbnail=True)))
        assert service.get_public(session, code).photo_ids == ids
    assert stored.format == "JPEG" and stored.size == (1365, 2048)  # turned upright, shrunk
    assert not stored.getexif() and max(thumb.size) == 320


def test_moderators_hide_edit_and_redact_and_alone_see_the_history(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = submit(demo_db, district, clock).tracking_code
    with demo_db.write() as session:
        photo_id = add_photo(session, clock, service.report_by_code(session, code), _photo())
    operator = actor(demo_db, "operator")
    with demo_db.write() as session:
        moderation.edit_text(
            session, operator, clock, code, "Vỉa hè bị lấn chiếm", "Lời lẽ xúc phạm"
        )
        clock.advance(timedelta(minutes=1))
        moderation.redact_photo(
            session,
            operator,
            clock,
            code,
            photo_id,
            Box(left=0, top=0, right=100, bottom=100),
            "Biển số xe",
        )
        clock.advance(timedelta(minutes=1))
        moderation.set_hidden(session, operator, clock, code, True, "Thông tin sai")
        with pytest.raises(Forbidden):
            moderation.set_hidden(session, actor(demo_db, "officer.p9"), clock, code, False, "x")
    with demo_db.read() as session:
        with pytest.raises(NotFound):
            service.get_public(session, code)
        with pytest.raises(NotFound):
            public_photo(session, photo_id)
        assert service.list_public(session, PublicQuery()).total == 0
        steps = moderation.history(session, operator, code)
        with pytest.raises(Forbidden):
            moderation.history(session, actor(demo_db, "officer.p9"), code)
        photo = session.get(Photo, photo_id)
        assert photo is not None
        redacted = Image.open(io.BytesIO(photo.data))
    assert [s.action for s in steps] == ["edit", "redact", "hide"]
    assert steps[0].detail == {"before": "Vỉa hè bị lấn chiếm"}
    dark, light = redacted.getpixel((50, 50)), redacted.getpixel((500, 500))
    assert isinstance(dark, tuple) and isinstance(light, tuple)
    assert max(dark) < 16 and min(light) > 240


def test_each_audience_reads_its_photos_and_regions_may_be_given_in_per_cent(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    receipt = submit(demo_db, district, clock, "an-ninh-trat-tu")  # a category not public
    officer = actor(demo_db, "officer.p9")
    with demo_db.write() as session:
        report = service.report_by_code(session, receipt.tracking_code)
        update = workflow.change_state(
            session, SYSTEM, clock, receipt.tracking_code, StateChange(note="Ảnh hiện trường")
        )
        ids = [add_photo(session, clock, report, _photo(), update.id) for _ in range(3)]
        with pytest.raises(InvalidInput, match="3 photos"):
            add_photo(session, clock, report, _photo(), update.id)
        region = Region(x=10, y=50, width=80, height=25, unit="%")
        moderation.redact_photo(
            session, actor(demo_db, "operator"), clock, report.tracking_code, ids[0], region, "x"
        )
    assert region.box(1000, 400) == Box(left=100, top=200, right=900, bottom=300)
    with demo_db.read() as session:
        with pytest.raises(NotFound):
            public_photo(session, ids[0])
        assert reporter_photo(session, ids[0], receipt.token)
        with pytest.raises(Forbidden):
            reporter_photo(session, ids[0], "wrong")
        assert officer_photo(session, officer, ids[0], thumbnail=True)
        with pytest.raises(Forbidden):
            officer_photo(session, actor(demo_db, "officer.p7"), ids[0])
        redacted = Image.open(io.BytesIO(officer_photo(session, officer, ids[0])))
    width, height = redacted.size
    dark = redacted.convert("L").getpixel((width // 2, int(height * 0.6)))
    light = redacted.convert("L").getpixel((width // 2, int(height * 0.9)))
    assert isinstance(dark, int) and isinstance(light, int) and dark < 16 < 240 < light
