"""A shift's handover note lists exactly what is open at its end, and the next operator
signs it. On both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dothi.errors import Conflict, Forbidden
from dothi.incidents import directives, service, shifts, steps
from dothi.incidents.schemas import (
    DirectiveIn,
    FromAlarmIn,
    IncidentIn,
    LogIn,
    StatusIn,
)
from tests.incidents.helpers import Desk


def test_the_handover_lists_what_is_open_at_the_end_of_the_shift(desk: Desk) -> None:
    operator, next_operator = desk.who("operator"), desk.who("operator.b")
    with desk.db.write() as session:
        shift = shifts.open_shift(session, operator, desk.clock)
    with desk.db.write() as session, pytest.raises(Conflict):
        shifts.open_shift(session, operator, desk.clock)

    alarm = desk.flood(0.4)
    lon, lat = desk.district.points["Phường 9"]
    with desk.db.write() as session:
        flood = service.open_from_alarm(
            session, operator, FromAlarmIn(alarm_id=alarm.id), desk.clock
        )
        tree = service.open_incident(
            session,
            operator,
            IncidentIn(
                type="fallen_tree",
                title="Cây đổ đường Huỳnh Văn Bánh",
                lon=lon,
                lat=lat,
                start_sop=False,
            ),
            desk.clock,
            "Asia/Ho_Chi_Minh",
        )
        service.change_status(
            session, operator, tree.id, StatusIn(status="closed", note="Báo nhầm"), desk.clock
        )
        directive = directives.issue(
            session,
            desk.who("leader"),
            DirectiveIn(
                title="Báo cáo tình hình ngập",
                content="Gửi báo cáo nhanh về điểm ngập.",
                deadline=desk.clock.now() + timedelta(minutes=30),
                unit_ids=[desk.unit("ubnd-p7")],
            ),
            desk.clock,
        )
        shifts.write_log(
            session,
            operator,
            shift.id,
            LogIn(text="Mưa lớn từ 15h", incident_id=flood.id),
            desk.clock,
        )
        first = steps.visible_steps(session, operator, flood)[0]
        steps.finish(session, operator, first.id, "", desk.clock)

    desk.clock.advance(timedelta(minutes=35))  # steps 2 (30 min) and the directive are late
    with desk.db.write() as session:
        closed = shifts.close_shift(
            session, operator, shift.id, "Theo dõi điểm ngập P7", desk.clock
        )
    handover = closed.handover
    assert handover is not None
    assert [item["id"] for item in handover["alarms"]] == [str(alarm.id)]
    assert [item["id"] for item in handover["incidents"]] == [str(flood.id)]  # not the closed
    assert [item["title"] for item in handover["overdue_steps"]] == [f"{flood.title} — bước 2"]
    assert [item["id"] for item in handover["overdue_directives"]] == [str(directive.id)]
    assert len(handover["log"]) == 1 and handover["log"][0].endswith("operator: Mưa lớn từ 15h")
    assert closed.open_key is None and closed.handover_note == "Theo dõi điểm ngập P7"

    with desk.db.write() as session, pytest.raises(Forbidden):
        shifts.sign_handover(session, operator, shift.id, desk.clock)
    with desk.db.write() as session:
        signed = shifts.sign_handover(session, next_operator, shift.id, desk.clock)
        assert (signed.signed_by, signed.signed_at) == ("operator.b", desk.clock.now())
        shifts.open_shift(session, operator, desk.clock)  # a new shift of one's own later on
