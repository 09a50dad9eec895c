"""Photos on the report pages: sent with the form (EXIF gone), shown as thumbnails, served
to each audience with the right cache headers, attached by officers, redacted by moderators."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image
from sqlalchemy import func, select

from dothi.reports.models import Photo, Report, ReportUpdate
from tests.reports.helpers import EMAIL, PHONE
from tests.web.helpers import form_token, login
from tests.web.report_pages import VI, Site, jpeg, report_form, sent
from tests.web.report_pages import site as site  # the fixture

PHOTO = re.compile(r'<img src="/reports/photos/([0-9a-f-]{36})/thumbnail')


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "GIF")
    return out.getvalue()


def _files(*photos: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photo", (f"anh{n}.jpg", data, "image/jpeg")) for n, data in enumerate(photos)]


def send_with(site: Site, form: dict[str, str], *photos: bytes) -> tuple[int, str]:
    """Post the report form with photos, as a browser sends a multipart form."""
    token = form_token(site.client.get("/reports/new"))
    answer = site.client.post(
        "/reports/new", data={**form, "csrf_token": token}, files=_files(*photos)
    )
    return answer.status_code, answer.text


def sent_with(site: Site, form: dict[str, str], *photos: bytes) -> str:
    """Send a report with photos; its tracking code."""
    status, page = send_with(site, form, *photos)
    found = re.search(r'id="tracking-code">([A-Z0-9]+)<', page)
    assert status == 201 and found, page
    return found.group(1)


def test_photos_sent_with_the_form_lose_their_exif_and_show_as_thumbnails(site: Site) -> None:
    code = sent_with(site, report_form(site), jpeg(), jpeg())
    with site.db.read() as session:
        stored = session.scalars(select(Photo)).all()
    assert len(stored) == 2
    for photo in stored:
        for data in (photo.data, photo.thumbnail):
            image = Image.open(io.BytesIO(data))
            assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert PHONE.encode() not in data and EMAIL.encode() not in data
    public = site.client.get(f"/reports/{code}").text
    ids = PHOTO.findall(public)
    assert sorted(ids) == sorted(str(p.id) for p in stored)
    assert f'<a href="/reports/photos/{ids[0]}">' in public
    full = site.client.get(f"/reports/photos/{ids[0]}")
    thumb = site.client.get(f"/reports/photos/{ids[0]}/thumbnail")
    for answer in (full, thumb):
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["cache-control"].startswith("public, max-age=")
        assert PHONE.encode() not in answer.content and EMAIL.encode() not in answer.content
        assert not Image.open(io.BytesIO(answer.content)).getexif()


def test_a_bad_photo_refuses_the_whole_report_with_a_readable_message(site: Site) -> None:
    cases = {
        "Photos must be JPEG, PNG or WebP.": [gif()],
        "This file is not a photo that can be read.": [b"<script>alert(1)</script>"],
        "At most 3 photos may be attached.": [jpeg()] * 4,
    }
    for message, photos in cases.items():
        status, page = send_with(site, report_form(site), *photos)
        assert status == 422 and VI.gettext(message) in page, message
        assert VI.gettext(message) != message  # translated
    with site.db.read() as session:
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Report, Photo)]
    assert counts == [0, 0]


def test_a_hidden_report_or_photo_is_not_served_to_the_public(site: Site) -> None:
    code = sent_with(site, report_form(site), jpeg())
    photo_id = PHOTO.findall(site.client.get(f"/reports/{code}").text)[0]
    login(site.client, site.settings, "operator")
    moderation = f"/moderation/reports/{code}"
    token = form_token(site.client.get(moderation))
    hide = {"hidden": "true", "reason": "Sai sự thật", "csrf_token": token}
    assert site.client.post(f"{moderation}/visibility", data=hide).status_code == 200
    seen = site.client.get(f"/reports/photos/{photo_id}")  # an officer who sees the report
    assert seen.status_code == 200 and seen.headers["cache-control"] == "no-store"
    site.client.cookies.clear()
    for path in (f"/reports/photos/{photo_id}", f"/reports/photos/{photo_id}/thumbnail"):
        assert site.client.get(path).status_code == 404
    login(site.client, site.settings, "officer.p7")  # another ward's officer
    assert site.client.get(f"/reports/photos/{photo_id}").status_code == 403


def test_the_reporter_sees_the_photos_of_a_report_that_is_not_public(site: Site) -> None:
    form = report_form(site, category="an-ninh-trat-tu")
    token = form_token(site.client.get("/reports/new"))
    answer = site.client.post(
        "/reports/new", data={**form, "csrf_token": token}, files=_files(jpeg())
    )
    link = re.search(r'id="private-link" href="http://testserver([^"]+)"', answer.text)
    assert answer.status_code == 201 and link
    tracked = site.client.get(link.group(1).replace("&amp;", "&")).text
    ids = PHOTO.findall(tracked)
    secret = link.group(1).split("token=")[1]
    assert ids and f"/reports/photos/{ids[0]}?token={secret}" in tracked
    assert site.client.get(f"/reports/photos/{ids[0]}").status_code == 404
    own = site.client.get(f"/reports/photos/{ids[0]}/thumbnail", params={"token": secret})
    assert own.status_code == 200 and own.headers["cache-control"] == "no-store"
    wrong = site.client.get(f"/reports/photos/{ids[0]}", params={"token": "wrong"})
    assert wrong.status_code == 403


def test_an_officer_answers_with_a_template_and_a_photo(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")
    page = site.client.get(f"/workspace/reports/{code}").text
    assert "Đã giải toả lấn chiếm vỉa hè" in page  # a template of the category
    assert "Đang nạo vét cống" not in page  # one of another category
    token = form_token(site.client.get(f"/workspace/reports/{code}"))
    fields = {"template": "lan-chiem-via-he-da-giai-toa", "note": "", "csrf_token": token}
    answer = site.client.post(
        f"/workspace/reports/{code}/update", data=fields, files=_files(jpeg())
    )
    assert answer.status_code == 200 and "Đã xử lý" in answer.text
    assert "Tổ trật tự đô thị phường đã kiểm tra" in answer.text
    with site.db.read() as session:
        update = session.scalars(select(ReportUpdate).where(ReportUpdate.state == "fixed")).one()
        photo = session.scalars(select(Photo)).one()
    assert photo.update_id == update.id
    site.client.cookies.clear()
    public = site.client.get(f"/reports/{code}").text
    assert str(photo.id) in PHOTO.findall(public)
    assert site.client.get(f"/reports/photos/{photo.id}").status_code == 200


def test_an_internal_update_keeps_its_photo_from_the_public(site: Site) -> None:
    code, _ = sent(site.client, report_form(site))
    login(site.client, site.settings, "officer.p9")
    token = form_token(site.client.get(f"/workspace/reports/{code}"))
    fields = {"note": "Ảnh hiện trường", "internal": "true", "csrf_token": token}
    answer = site.client.post(
        f"/workspace/reports/{code}/update", data=fields, files=_files(jpeg())
    )
    photo_id = PHOTO.findall(answer.text)[0]
    site.client.cookies.clear()
    assert photo_id not in site.client.get(f"/reports/{code}").text
    assert site.client.get(f"/reports/photos/{photo_id}").status_code == 404


def test_a_moderator_blacks_out_a_region_of_the_served_photo(site: Site) -> None:
    code = sent_with(site, report_form(site), jpeg((400, 200)))
    photo_id = PHOTO.findall(site.client.get(f"/reports/{code}").text)[0]
    login(site.client, site.settings, "operator")
    moderation = f"/moderation/reports/{code}"
    form = site.client.get(moderation).text
    assert f"/photos/{photo_id}/redact" in form and "400 × 200 px" in form
    token = form_token(site.client.get(moderation))
    action = f"{moderation}/photos/{photo_id}/redact"
    region = {"x": "0", "y": "0", "width": "50", "height": "50", "unit": "%"}
    no_reason = site.client.post(action, data={**region, "csrf_token": token})
    assert no_reason.status_code == 422
    bad = site.client.post(action, data={**region, "x": "a", "reason": "x", "csrf_token": token})
    assert bad.status_code == 422
    outside = {**region, "unit": "px", "width": "900", "reason": "x", "csrf_token": token}
    refused = site.client.post(action, data=outside)
    assert refused.status_code == 422
    assert VI.gettext("The region lies outside the photo.") in refused.text
    done = site.client.post(action, data={**region, "reason": "Biển số xe", "csrf_token": token})
    assert done.status_code == 200 and "Biển số xe" in done.text
    site.client.cookies.clear()
    served = Image.open(io.BytesIO(site.client.get(f"/reports/photos/{photo_id}").content))
    thumb = site.client.get(f"/reports/photos/{photo_id}/thumbnail").content
    small = Image.open(io.BytesIO(thumb))
    for image, inside, beyond in ((served, (100, 50), (300, 150)), (small, (75, 37), (225, 112))):
        dark, light = image.convert("L").getpixel(inside), image.convert("L").getpixel(beyond)
        assert isinstance(dark, int) and isinstance(light, int)
        assert dark < 16 and light > 240


def test_no_public_photo_route_or_page_leaks_the_contact(site: Site) -> None:
    code = sent_with(site, report_form(site, description=f"Gọi {PHONE}"), jpeg())
    photo_id = PHOTO.findall(site.client.get(f"/reports/{code}").text)[0]
    paths = [
        f"/reports/{code}",
        "/reports",
        f"/reports/photos/{photo_id}",
        f"/reports/photos/{photo_id}/thumbnail",
    ]
    for path in paths:
        body = site.client.get(path).content
        assert PHONE.encode() not in body and EMAIL.encode() not in body, path
