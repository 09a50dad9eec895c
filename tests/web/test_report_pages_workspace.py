"""The officers' workspace: the queue of one's unit and area, the report page and its actions;
the reporter's contact only on request, and audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from tests.reports.helpers import EMAIL, PHONE
from tests.web.helpers import form_token, login
from tests.web.report_pages import VI, Site, report_form, sent
from tests.web.report_pages import site as site  # the fixture


def _act(site: Site, code: str, action: str, **fields: str) -> tuple[int, str]:
    """Send one of the report page's forms; the status and the page it leads to."""
    page = f"/workspace/reports/{code}"
    token = form_token(site.client.get(page))
    answer = site.client.post(f"{page}/{action}", data={**fields, "csrf_token": token})
    return answer.status_code, answer.text


def test_the_queue_is_scoped_and_puts_overdue_reports_first(site: Site) -> None:
    late, _ = sent(site.client, report_form(site))
    site.clock.advance(timedelta(days=10))
    fresh, _ = sent(site.client, report_form(site))
    elsewhere, _ = sent(site.client, report_form(site, ward="Phường 7"))
    login(site.client, site.settings, "officer.p9")
    queue = site.client.get("/workspace/reports").text
    assert late in queue and fresh in queue and elsewhere not in queue
    assert queue.index(late) < queue.index(fresh)
    assert '<tr class="overdue">' in queue and "Quá hạn" in queue
    overdue = site.client.get("/workspace/reports", params={"overdue": "true"}).text
    assert late in overdue and fresh not in overdue
    by_state = site.client.get("/workspace/reports", params={"state": "fixed"}).text
    assert late not in by_state
    assert "Phản ánh cần xử lý" in site.client.get("/").text


def test_the_workspace_needs_a_login_and_the_right(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    html = {"Accept": "text/html"}
    anonymous = site.client.get("/workspace/reports", headers=html, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(site.client, site.settings, "officer.p7")
    assert site.client.get(f"/workspace/reports/{code}").status_code == 403
    login(site.client, site.settings, "operator")
    page = site.client.get(f"/workspace/reports/{code}")
    assert page.status_code == 200 and "Tiếp nhận phản ánh" not in page.text
    assert "Xem thông tin liên hệ" not in page.text
    token = form_token(page)
    refused = site.client.post(f"/workspace/reports/{code}/accept", data={"csrf_token": token})
    assert refused.status_code == 403
    unforged = site.client.post(f"/workspace/reports/{code}/contact")
    assert unforged.status_code == 403


def test_an_officer_works_a_report_to_its_end(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")
    page = site.client.get(f"/workspace/reports/{code}").text
    assert PHONE not in page and EMAIL not in page and "098****321" in page
    status, text = _act(site, code, "accept", note="Đã nhận")
    assert status == 200 and "Đã thực hiện" in text and "Đã tiếp nhận" in text
    status, text = _act(site, code, "accept")
    assert status == 409 and VI.gettext("This report was accepted already.") in text
    status, _ = _act(site, code, "resolve", note="ký tự \x00 lạ")  # refused, not a 500
    assert status == 422
    status, text = _act(site, code, "update", state="in_progress", note="Đang cử người")
    assert status == 200 and "Đang cử người" in text
    status, text = _act(site, code, "update", note="Chỉ cán bộ đọc", internal="true")
    assert status == 200 and "ghi chú nội bộ" in text
    status, text = _act(site, code, "update")
    assert status == 422 and VI.gettext("Give a new state or a note.") in text
    status, text = _act(site, code, "reject")
    assert status == 422 and VI.gettext("A reason is required for this state.") in text
    status, text = _act(site, code, "resolve", note="Đã giải toả")
    assert status == 200 and "Đã xử lý" in text and "Tiếp nhận phản ánh" not in text
    public = site.client.get(f"/reports/{code}").text
    assert "Đã giải toả" in public and "Chỉ cán bộ đọc" not in public


def test_transfer_recategorise_and_duplicate(site: Site) -> None:
    original, _ = sent(site.client, report_form(site))
    copy, _ = sent(site.client, report_form(site))
    other, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")
    status, text = _act(site, copy, "duplicate", original="PA00000000")
    assert status == 404
    status, text = _act(site, copy, "duplicate", original=original)
    assert status == 200 and "Trùng lặp" in text and original in text
    status, text = _act(site, other, "transfer", org_unit_id="not-an-id", reason="x")
    assert status == 422 and "Hãy điền đủ" in text
    drain = str(site.district.units["cty-thoatnuoc"])
    status, text = _act(site, other, "transfer", org_unit_id=drain, reason="Thuộc thoát nước")
    assert status == 200 and "Chuyển đơn vị khác" in text
    status, text = _act(site, original, "recategorise", category="cay-xanh", reason="")
    assert status == 422
    status, text = _act(site, original, "recategorise", category="cay-xanh", reason="Cây ngã")
    assert status == 200 and "Cây xanh" in text


def test_showing_the_contact_is_an_explicit_audited_act(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")
    page = site.client.get(f"/workspace/reports/{code}").text
    assert PHONE not in page and "Xem thông tin liên hệ" in page
    status, text = _act(site, code, "contact")
    assert status == 200 and PHONE in text and EMAIL in text
    with site.db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "report.read_personal")
        ).all()
    assert [(e.actor, e.object_id) for e in entries] == [("officer.p9", code)]


def test_statistics_page_chart_and_csv(site: Site) -> None:
    sent(site.client, report_form(site))
    sent(site.client, report_form(site, ward="Phường 7"))
    html = {"Accept": "text/html"}
    assert site.client.get(
        "/workspace/statistics", headers=html, follow_redirects=False
    ).is_redirect
    login(site.client, site.settings, "officer.p9")
    page = site.client.get("/workspace/statistics")
    assert page.status_code == 200 and "Thống kê phản ánh" in page.text
    assert "25/12/2025" in page.text and "<svg" in page.text and "Phường 9" in page.text
    assert "Phường 7" not in page.text  # the officer's own ward only
    by_category = site.client.get("/workspace/statistics", params={"by": "category"}).text
    assert "Trật tự đô thị" in by_category
    assert site.client.get("/workspace/statistics", params={"by": "nope"}).status_code == 422
    csv = site.client.get("/workspace/statistics.csv", params={"by": "ward", "day": "2026-01-15"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("group,received,closed,on_time,on_time_rate")
    assert lines[1].startswith("Phường 9,1,0,0,,1,0,0") and lines[-1].startswith("total,1,")


def test_moderators_hide_and_edit_and_only_they_see_the_history(site: Site) -> None:
    code, _ = sent(site.client, report_form(site, description="Đồ ngốc lấn chiếm vỉa hè"))
    login(site.client, site.settings, "officer.p9")
    assert site.client.get(f"/moderation/reports/{code}").status_code == 403
    login(site.client, site.settings, "operator")
    page = f"/moderation/reports/{code}"
    assert "Chưa có kiểm duyệt nào" in site.client.get(page).text
    token = form_token(site.client.get(page))
    empty = site.client.post(f"{page}/text", data={"description": "x", "csrf_token": token})
    assert empty.status_code == 422 and "Hãy cho biết lý do" in empty.text
    edit = {"description": "Lấn chiếm vỉa hè", "reason": "Lời lẽ xúc phạm", "csrf_token": token}
    assert site.client.post(f"{page}/text", data=edit).status_code == 200
    hide = {"hidden": "true", "reason": "Sai sự thật", "csrf_token": token}
    history = site.client.post(f"{page}/visibility", data=hide).text
    assert "Lời lẽ xúc phạm" in history and "Sai sự thật" in history and "Đồ ngốc" in history
    site.client.cookies.clear()
    assert code not in site.client.get("/reports").text
    assert site.client.get(f"/reports/{code}").status_code == 404


def test_an_operator_opens_an_incident_from_a_report_in_one_click(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")  # handles reports, not incidents
    assert "/api/v1/incidents/from-report" not in site.client.get(f"/workspace/reports/{code}").text
    headers = login(site.client, site.settings, "operator")
    page = site.client.get(f"/workspace/reports/{code}").text
    assert 'data-api="/api/v1/incidents/from-report"' in page and "Mở sự cố" in page
    # The button's form, as incidents.js sends it.
    opened = site.client.post(
        "/api/v1/incidents/from-report", json={"tracking_code": code}, headers=headers
    )
    assert opened.status_code in (200, 201), opened.text
    assert site.client.get(f"/incidents/{opened.json()['id']}").status_code == 200
