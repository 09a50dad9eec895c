"""Safeguards found by review: contact repeated in free text, scope of duplicates, deadlines."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.reports import service, workflow
from dothi.reports.calendar import WorkingCalendar
from dothi.reports.photos import clean
from dothi.reports.schemas import PublicQuery
from tests.reports.helpers import EMAIL, PHONE, POLICY, District, actor


def _submit(
    demo_db: Database, district: District, clock: FixedClock, ward: str = "Phường 9", **text: str
) -> str:
    data = district.report("trat-tu-do-thi", ward, **text)
    with demo_db.write() as session:
        receipt = service.submit_report(
            session, POLICY, clock, data, submitted_by="web", source="web"
        )
    return receipt.tracking_code


@pytest.mark.parametrize(
    "written", ["(098) 765-4321", "098/765/4321", "098,765,4321", "+84 (98) 765 4321"]
)
def test_the_contact_written_in_any_field_is_masked_for_everyone(
    demo_db: Database, district: District, clock: FixedClock, written: str
) -> None:
    code = _submit(
        demo_db,
        district,
        clock,
        description=f"Gọi tôi {written} hoặc {EMAIL}",
        address=f"12 Huỳnh Văn Bánh, gọi {written}",
    )
    operator = actor(demo_db, "operator")  # may read reports, not personal data
    with demo_db.read() as session:
        public = service.list_public(session, PublicQuery()).items[0].model_dump_json()
        internal = service.get_report(session, operator, code, clock).model_dump_json()
    for text in (public, internal):
        assert written not in text and EMAIL not in text and PHONE not in text


def test_a_report_outside_ones_area_cannot_be_the_original_of_a_duplicate(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    elsewhere = _submit(demo_db, district, clock, "Phường 7")
    mine = _submit(demo_db, district, clock)
    officer = actor(demo_db, "officer.p9")
    with demo_db.write() as session, pytest.raises(Forbidden):
        workflow.mark_duplicate(session, officer, clock, mine, elsewhere)


def test_overlapping_office_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar.build(
            "Asia/Ho_Chi_Minh", ["07:30-11:30", "11:00-17:00"], [date(2026, 1, 1)]
        )
    calendar = WorkingCalendar.build("Asia/Ho_Chi_Minh", ["13:00-17:00", "07:30-11:30"], [])
    assert len(calendar.spans) == 2 and calendar.spans[0][0].hour == 7


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = io.BytesIO()
    Image.new("1", (10_000, 8_000)).save(bomb, "PNG")  # 80 megapixels in a small file
    with pytest.raises(InvalidInput, match="too many pixels"):
        clean(bomb.getvalue())
