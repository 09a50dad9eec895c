"""The citizen's pages and the public map and list: report, join, follow, rate, reopen;
never a phone or an e-mail on a public page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from dothi.reports import workflow
from tests.reports.helpers import EMAIL, PHONE, actor
from tests.web.helpers import form_token, login
from tests.web.report_pages import VI, Site, post_form, report_form, send, sent
from tests.web.report_pages import site as site  # the fixture


def test_the_form_speaks_vietnamese_and_english_and_groups_categories(site: Site) -> None:
    page = site.client.get("/reports/new")
    assert page.status_code == 200
    assert "Gửi phản ánh" in page.text and '<optgroup label="Trật tự đô thị">' in page.text
    assert 'name="lat"' in page.text and 'name="lon"' in page.text  # the place without JS
    english = site.client.get("/reports/new?lang=en")
    assert "Send the report" in english.text and "Urban order" in english.text


def test_a_category_brings_its_questions(site: Site) -> None:
    fragment = site.client.get("/reports/questions", params={"category": "giao-thong"})
    assert 'name="attr.hang-muc"' in fragment.text and "required" in fragment.text
    assert site.client.get("/reports/questions", params={"category": "nope"}).text.strip() == ""


def test_a_report_sent_without_javascript_gets_a_code_and_a_private_link(site: Site) -> None:
    code, link = sent(site.client, report_form(site))
    tracked = site.client.get(link)
    assert tracked.status_code == 200 and code in tracked.text
    assert tracked.headers["referrer-policy"] == "no-referrer"
    assert "Chờ tiếp nhận" in tracked.text
    assert code in site.client.get("/reports").text
    assert code in site.client.get(f"/reports/{code}").text
    markers = _markers(site.client.get("/reports/map").text)
    assert [m["code"] for m in markers] == [code]


def _markers(page: str) -> list[dict[str, object]]:
    found = re.search(r'id="report-markers">(.*?)</script>', page, re.S)
    assert found
    markers: list[dict[str, object]] = json.loads(found.group(1))
    return markers


def test_bad_input_gives_the_form_again_with_a_readable_message(site: Site) -> None:
    cases = {
        "Chọn lĩnh vực": report_form(site, category=""),
        "Chọn vị trí trên bản đồ": report_form(site, lat="", lon=""),
        VI.gettext("This place is outside the area served."): report_form(
            site, lat="21.0", lon="105.8"
        ),
        "Hãy cho biết số điện thoại hoặc e-mail": report_form(site, phone="", email=""),
        "Địa chỉ e-mail không hợp lệ": report_form(site, email="khong-phai-email"),
        "Vui lòng trả lời": report_form(site, category="giao-thong"),
        "Chọn vị trí trên bản đồ hoặc nhập toạ độ": report_form(site, lat="abc"),
    }
    for message, form in cases.items():
        page = send(site.client, form)
        assert page.status_code == 422, (message, page.status_code)
        assert message in page.text, message
        assert form["description"] in page.text  # what was typed is kept


def test_the_required_question_answered_lets_the_report_through(site: Site) -> None:
    wrong = report_form(site, category="giao-thong", **{"attr.hang-muc": "khong-co"})
    assert send(site.client, wrong).status_code == 422
    form = report_form(site, category="giao-thong", **{"attr.hang-muc": "mat-duong"})
    assert send(site.client, form).status_code == 201


def test_a_form_without_its_token_is_refused(site: Site) -> None:
    answer = site.client.post("/reports/new", data=report_form(site))
    assert answer.status_code == 403


def test_nearby_reports_of_the_category_can_be_joined(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    form = report_form(site)
    near = {"category": form["category"], "lat": form["lat"], "lon": form["lon"]}
    fragment = site.client.get("/reports/nearby", params=near)
    assert code in fragment.text and "Tham gia" in fragment.text
    other = site.client.get("/reports/nearby", params={**near, "category": "cay-xanh"})
    assert code not in other.text
    assert site.client.get("/reports/nearby", params={**near, "lat": "x"}).status_code == 200
    bad = post_form(site.client, "/reports/new", f"/reports/{code}/follow", {"email": "x"})
    assert bad.status_code == 422 and "không hợp lệ" in bad.text
    joined = post_form(
        site.client, "/reports/new", f"/reports/{code}/follow", {"email": "hang.xom@example.vn"}
    )
    assert joined.status_code == 200 and code in joined.text


def test_the_reporter_rates_and_reopens_within_seven_days(site: Site) -> None:
    code, link = sent(site.client, report_form(site))
    assert "Đánh giá" not in site.client.get(link).text
    officer = actor(site.db, "officer.p9")
    with site.db.write() as session:
        workflow.resolve(session, officer, site.clock, code, "Đã giải toả vỉa hè")
    token = link.split("token=")[1]
    page = site.client.get(link)
    assert "Đã giải toả vỉa hè" in page.text and "Mở lại phản ánh" in page.text
    no_score = post_form(site.client, link, f"/reports/{code}/rate", {"token": token})
    assert no_score.status_code == 422 and "Chọn điểm từ 1 đến 5" in no_score.text
    rated = post_form(
        site.client, link, f"/reports/{code}/rate", {"token": token, "score": "4", "comment": "Tốt"}
    )
    assert rated.status_code == 303
    assert "Cảm ơn bạn đã đánh giá" in site.client.get(rated.headers["location"]).text
    again = post_form(site.client, link, f"/reports/{code}/rate", {"token": token, "score": "5"})
    assert again.status_code == 409
    empty = post_form(site.client, link, f"/reports/{code}/reopen", {"token": token})
    control = {"token": token, "reason": "\x00"}
    assert post_form(site.client, link, f"/reports/{code}/reopen", control).status_code == 422
    assert empty.status_code == 422
    reopened = post_form(
        site.client, link, f"/reports/{code}/reopen", {"token": token, "reason": "Lại bị lấn"}
    )
    assert reopened.status_code == 303
    assert "Chờ tiếp nhận" in site.client.get(link).text
    with site.db.write() as session:
        workflow.resolve(session, officer, site.clock, code, "Đã giải toả lần hai")
    site.clock.advance(timedelta(days=8))
    assert "Mở lại phản ánh" not in site.client.get(link).text
    late = post_form(site.client, link, f"/reports/{code}/reopen", {"token": token, "reason": "x"})
    message = VI.gettext("A report can be reopened only within 7 days of its closing.")
    assert late.status_code == 409 and message in late.text


def test_a_wrong_secret_opens_nothing(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    assert site.client.get(f"/reports/{code}/track?token=wrong").status_code == 403
    assert site.client.get("/reports/PA00000000").status_code == 404


def test_search_ignores_diacritics_and_filters_combine(site: Site) -> None:
    pothole, _ = sent(site.client, report_form(site, description="Ổ gà sâu trước chợ"))
    sidewalk, _ = sent(site.client, report_form(site, ward="Phường 7"))
    found = site.client.get("/reports", params={"q": "o ga truoc"}).text  # no code holds an "o"
    assert pothole in found and sidewalk not in found
    ward7 = site.district.wards["Phường 7"]
    by_ward = site.client.get("/reports", params={"ward": str(ward7)}).text
    assert sidewalk in by_ward and pothole not in by_ward
    assert pothole not in site.client.get("/reports", params={"status": "closed"}).text
    on_map = _markers(site.client.get("/reports/map", params={"ward": str(ward7)}).text)
    assert [m["code"] for m in on_map] == [sidewalk]


def test_no_public_page_shows_the_reporter_contact(site: Site) -> None:
    form = report_form(
        site,
        description=f"Gọi tôi: {PHONE[:4]} {PHONE[4:7]} {PHONE[7:]} hoặc {EMAIL}",
        name="Phạm Thị Dung",
    )
    code, link = sent(site.client, form)
    shown, _ = sent(site.client, report_form(site, name="Trần Văn Hiển", show_name="on"))
    headers = login(site.client, site.settings, "officer.p9")
    note = {"note": f"Đã liên hệ {EMAIL}", "csrf_token": headers["X-CSRF-Token"]}
    assert site.client.post(f"/workspace/reports/{code}/update", data=note).status_code == 200
    site.client.cookies.clear()
    point = report_form(site)
    pages = [
        "/reports",
        "/reports?q=goi",
        "/reports/map",
        f"/reports/{code}",
        link,
        f"/reports/nearby?category=trat-tu-do-thi&lat={point['lat']}&lon={point['lon']}",
        "/open311/v2/requests.json",
        f"/open311/v2/requests/{code}.xml",
    ]
    phone = re.compile(r"[\s.\-]*".join(PHONE[1:]))  # however it is spaced
    for url in pages:
        page = site.client.get(url)
        assert page.status_code == 200, url
        text = page.text
        assert EMAIL not in text and not phone.search(text), url
        assert "Dung" not in text, url
    assert "Trần Văn Hiển" in site.client.get(f"/reports/{shown}").text


def test_public_pages_show_the_navigation_and_the_language_switch(site: Site) -> None:
    page = site.client.get("/reports/map?lang=en")
    assert "Map of citizen reports" in page.text and 'href="/reports/new"' in page.text
    assert "Reports to handle" not in page.text
    assert form_token(site.client.get("/reports/new"))
