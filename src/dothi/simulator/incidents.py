"""The demo district's work in hand when an operator first looks: a flooded street being
handled by its ward and the drainage company, a fallen tree just reported, and a directive of
the district to two ward committees. Made once, through the incidents services."""

from __future__ import annotations

from datetime import timedelta

from shapely.geometry import shape
from sqlalchemy.orm import Session

from dothi.accounts.models import OrgUnitKind
from dothi.accounts.orgunits import list_org_units
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import OrgUnitQuery
from dothi.core.clock import Clock, local_date
from dothi.incidents import directives, service, steps
from dothi.incidents.schemas import DirectiveIn, IncidentIn, IncidentQuery
from dothi.incidents.vocab import Priority
from dothi.places.service import wards_under

FLOOD_WARD, TREE_WARD = "Phường 7", "Phường 2"
DIRECTED = ("Phường 7", "Phường 9")


def load_demo_incidents(session: Session, clock: Clock, zone: str, district: str) -> None:
    """Open the demo's incidents and directive, unless the district has incidents already."""
    if service.list_incidents(session, SYSTEM, IncidentQuery(limit=1)).total:
        return
    day = local_date(clock.now(), zone)
    wards = {unit.name: unit for unit in wards_under(session, district, day)}
    flood = _point(wards[FLOOD_WARD].boundary)
    flooding = service.open_incident(
        session,
        SYSTEM,
        IncidentIn(
            type="flooding",
            title="Ngập nước đường Phan Đăng Lưu sau mưa lớn",
            description="Nước ngập 25–30 cm trên một đoạn khoảng 150 m, xe máy chết máy.",
            lon=flood[0],
            lat=flood[1],
            priority=Priority.HIGH,
            message="Tổng đài 1022 chuyển: người dân báo ngập tại Phan Đăng Lưu.",
        ),
        clock,
        zone,
    )
    first, second, *_ = steps.visible_steps(session, SYSTEM, flooding)
    steps.finish(session, SYSTEM, first.id, "Đã xác minh qua camera giao lộ.", clock)
    steps.dispatch(session, SYSTEM, second.id, None, "Cử lực lượng phân luồng.", clock)
    tree = _point(wards[TREE_WARD].boundary)
    service.open_incident(
        session,
        SYSTEM,
        IncidentIn(
            type="fallen_tree",
            title="Cây đổ chắn một phần lòng đường",
            lon=tree[0],
            lat=tree[1],
        ),
        clock,
        zone,
    )
    committees = [
        unit.id
        for name in DIRECTED
        for unit in list_org_units(
            session,
            SYSTEM,
            OrgUnitQuery(kind=OrgUnitKind.WARD_COMMITTEE, ward=wards[name].id),
        ).items
    ]
    directives.issue(
        session,
        SYSTEM,
        DirectiveIn(
            title="Kiểm tra, khơi thông hố ga trước cao điểm mưa",
            content="Rà soát toàn bộ hố ga, miệng cống trên địa bàn; báo cáo kết quả về Trung tâm.",
            priority=Priority.HIGH,
            deadline=clock.now() + timedelta(days=2),
            unit_ids=committees,
        ),
        clock,
    )


def _point(boundary: dict[str, object] | None) -> tuple[float, float]:
    """A point inside a ward."""
    inside = shape(boundary).representative_point()
    return round(inside.x, 6), round(inside.y, 6)
