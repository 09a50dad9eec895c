"""Response templates: bundled and admin-defined, offered by category, filling an empty note."""

from __future__ import annotations

import pytest

from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, InvalidInput
from dothi.reports import responses
from dothi.reports.schemas import ResponseIn, StateChange
from tests.reports.helpers import District, actor


def test_templates_of_a_category_and_of_any_in_state_order(
    demo_db: Database, district: District
) -> None:
    with demo_db.read() as session:
        offered = responses.list_templates(session, "trat-tu-do-thi")
        every = responses.list_templates(session)
    codes = [t.code for t in offered]
    assert "lan-chiem-via-he-da-giai-toa" in codes and "ngap-nuoc-nao-vet" not in codes
    assert codes.index("tiep-nhan-kiem-tra") < codes.index("da-xu-ly-chung")  # in progress first
    assert {t.category for t in offered} == {None, "trat-tu-do-thi"}
    assert len(every) > len(offered)


def test_administrators_define_templates_with_known_categories_and_states(
    demo_db: Database, district: District
) -> None:
    data = ResponseIn(
        code="cay-nga",
        category="cay-xanh",
        state="in_progress",
        title="Đang xử lý cây ngã",
        text="Đội cây xanh đang cưa, dọn cây ngã.",
    )
    with demo_db.write() as session:
        with pytest.raises(Forbidden):
            responses.define_template(session, actor(demo_db, "officer.p9"), data)
        manager = actor(demo_db, "manager")
        assert responses.define_template(session, manager, data).title == "Đang xử lý cây ngã"
        for wrong in ({"category": "khong-co"}, {"state": "khong_co"}, {"state": "duplicate"}):
            with pytest.raises(InvalidInput):
                responses.define_template(session, manager, data.model_copy(update=wrong))
    with demo_db.read() as session:
        assert "cay-nga" in [t.code for t in responses.list_templates(session, "cay-xanh")]


def test_a_template_fills_an_empty_note_and_a_missing_state_only(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    with demo_db.read() as session:
        filled = responses.apply_template(session, "da-xu-ly-chung", StateChange())
        typed = StateChange(note="Đã xong", state="in_progress")
        kept = responses.apply_template(session, "da-xu-ly-chung", typed)
        chosen = responses.apply_template(
            session, "da-xu-ly-chung", StateChange(state="in_progress")
        )
        with pytest.raises(InvalidInput):
            responses.apply_template(session, "khong-co", StateChange())
    assert filled.state == "fixed" and filled.note.startswith("Đơn vị đã kiểm tra")
    assert kept == typed
    assert chosen.state == "in_progress" and chosen.note.startswith("Đơn vị đã kiểm tra")
