"""Helpers of the report page tests: the app on the demo district with a settable clock,
and a citizen who fills in the report form like a browser without JavaScript."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import ExifTags, Image

from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.core.i18n import load_catalogues
from dothi.db.engine import Database
from dothi.web.app import create_app
from dothi.web.templating import HERE
from tests.reports.helpers import EMAIL, PHONE, START, District, build_district
from tests.web.helpers import form_token

VI = load_catalogues(HERE / "locale")["vi"]
"""The Vietnamese catalogue: messages of the reports domain are checked in their words."""


@dataclass
class Site:
    """The running app, its clock and the demo district."""

    client: TestClient
    clock: FixedClock
    district: District
    settings: Settings
    db: Database


@pytest.fixture
def site(settings: Settings, demo_db: Database) -> Iterator[Site]:
    clock = FixedClock(START)
    district = build_district(demo_db, clock)
    app = create_app(settings, database=demo_db, clock=clock)
    with TestClient(app) as client:
        yield Site(client, clock, district, settings, demo_db)


def report_form(
    site: Site, category: str = "trat-tu-do-thi", ward: str = "Phường 9", **fields: str
) -> dict[str, str]:
    """A filled-in report form: a point of the ward, the reporter's phone and e-mail."""
    lon, lat = site.district.points[ward]
    return {
        "category": category,
        "description": "Vỉa hè bị lấn chiếm, người đi bộ phải xuống lòng đường",
        "lat": f"{lat:.6f}",
        "lon": f"{lon:.6f}",
        "phone": PHONE,
        "email": EMAIL,
        **fields,
    }


def send(client: TestClient, form: dict[str, str]) -> Response:
    """Post the report form with the token of a fresh form page."""
    token = form_token(client.get("/reports/new"))
    answer: Response = client.post("/reports/new", data={**form, "csrf_token": token})
    return answer


def sent(client: TestClient, form: dict[str, str]) -> tuple[str, str]:
    """Send a report; its tracking code and the path of its private link."""
    page = send(client, form)
    assert page.status_code == 201, page.text
    code = re.search(r'id="tracking-code">([A-Z0-9]+)<', page.text)
    link = re.search(r'id="private-link" href="http://testserver([^"]+)"', page.text)
    assert code and link
    return code.group(1), link.group(1).replace("&amp;", "&")


def post_form(client: TestClient, page_url: str, action: str, fields: dict[str, str]) -> Response:
    """Send one of a page's forms, with the CSRF token the page carries."""
    token = form_token(client.get(page_url))
    answer: Response = client.post(
        action, data={**fields, "csrf_token": token}, follow_redirects=False
    )
    return answer


def jpeg(size: tuple[int, int] = (400, 300), colour: str = "white") -> bytes:
    """A JPEG carrying GPS coordinates and the reporter's contact in its EXIF."""
    exif = Image.Exif()
    exif[0x013B] = f"{PHONE} {EMAIL}"  # Artist
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (10.0, 47.0, 59.0), 3: "E", 4: (106.0, 40.0, 30.0)}
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif)
    return out.getvalue()
