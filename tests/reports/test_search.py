"""The public search: any case, with or without diacritics, kept up to date by edits."""

from __future__ import annotations

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.reports import moderation, service, workflow
from dothi.reports.schemas import PublicQuery, Recategorise
from tests.reports.helpers import POLICY, District, actor, submit


def _found(db: Database, q: str) -> list[str]:
    with db.read() as session:
        page = service.list_public(session, PublicQuery(q=q))
    return [report.tracking_code for report in page.items]


def test_search_ignores_case_and_diacritics_and_follows_edits(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    pothole = submit(demo_db, district, clock, description="Ổ GÀ sâu trước chợ Phú Nhuận")
    tree = submit(demo_db, district, clock, "cay-xanh", address="12 đường Đặng Văn Ngữ")
    code = pothole.tracking_code
    # Words with an "o", which no tracking code holds: a random code cannot match them.
    assert _found(demo_db, "o ga truoc") == [code] == _found(demo_db, "ổ gà  CHỢ")
    assert _found(demo_db, "dang van ngu") == [tree.tracking_code]
    assert _found(demo_db, "cay xanh") == [tree.tracking_code]  # the category's name
    assert _found(demo_db, code.lower()) == [code]
    assert _found(demo_db, "100%_") == []
    with demo_db.write() as session:
        operator = actor(demo_db, "operator")
        moderation.edit_text(session, operator, clock, code, "Hố sâu trên vỉa hè", "Sửa chữ")
        change = Recategorise(category="giao-thong", reason="Mặt đường")
        workflow.recategorise(session, actor(demo_db, "officer.p9"), POLICY, clock, code, change)
    assert _found(demo_db, "o ga truoc") == []
    assert _found(demo_db, "ho sau") == [code] == _found(demo_db, "giao thong")
