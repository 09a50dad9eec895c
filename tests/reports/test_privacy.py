"""The reporter's contact: masked for officers, never public, and every unmasked read audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden
from dothi.reports import service
from dothi.reports.schemas import OfficerQuery, PublicQuery
from tests.reports.helpers import EMAIL, PHONE, POLICY, District, actor, submit


def test_contact_is_masked_for_officers_and_absent_in_public(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    data = district.report("trat-tu-do-thi", reporter_name="Phạm Thị Dung", show_name=False)
    with demo_db.write() as session:
        code = service.submit_report(
            session, POLICY, clock, data, submitted_by="web", source="web"
        ).tracking_code
    officer = actor(demo_db, "officer.p9")
    with demo_db.read() as session:
        detail = service.get_report(session, officer, code, clock)
        listed = service.list_reports(session, officer, OfficerQuery(), clock).items[0]
        public = service.list_public(session, PublicQuery()).items[0]
    for shown in (detail, listed):
        assert (shown.reporter_phone, shown.reporter_email) == ("098****321", "n***@example.vn")
        assert shown.reporter_name == "P*** T*** D***"
    text = public.model_dump_json()
    assert PHONE not in text and EMAIL not in text and "Dung" not in text


def test_reading_the_contact_is_audited_without_the_values(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    code = submit(demo_db, district, clock).tracking_code
    with demo_db.write() as session:
        contact = service.reporter_contact(session, actor(demo_db, "officer.p9"), code, clock)
        with pytest.raises(Forbidden):  # operators see reports, not who sent them
            service.reporter_contact(session, actor(demo_db, "operator"), code, clock)
    assert (contact.reporter_phone, contact.reporter_email) == (PHONE, EMAIL)
    with demo_db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "report.read_personal")
        ).one()
    assert (entry.actor, entry.object_id) == ("officer.p9", code)
    assert entry.admin_unit_id == district.wards["Phường 9"]
    assert entry.detail == {"fields": ["reporter_phone", "reporter_email"]}
    assert PHONE not in str(entry.detail)


def test_the_name_is_public_only_when_the_reporter_chose_so(
    demo_db: Database, district: District, clock: FixedClock
) -> None:
    data = district.report("trat-tu-do-thi", reporter_name="Phạm Thị Dung", show_name=True)
    with demo_db.write() as session:
        code = service.submit_report(
            session, POLICY, clock, data, submitted_by="web", source="web"
        ).tracking_code
    with demo_db.read() as session:
        assert service.get_public(session, code).reporter_name == "Phạm Thị Dung"
