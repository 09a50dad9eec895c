"""Open311 GeoReport v2 as a client following the text sees it: JSON and XML, errors, privacy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from dothi.accounts.permissions import SYSTEM
from dothi.config import Settings
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.reports import service, workflow
from dothi.reports.models import Category
from dothi.reports.routing import set_route
from dothi.web.app import create_app
from dothi.web.standards.open311_xml import xml_document
from tests.reports.helpers import EMAIL, PHONE, START, District, actor, build_district

V2 = "/open311/v2"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def district(demo_db: Database, clock: FixedClock) -> District:
    return build_district(demo_db, clock)


@pytest.fixture
def http(
    settings: Settings, demo_db: Database, clock: FixedClock, district: District
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=demo_db, clock=clock)) as client:
        yield client


def _form(
    district: District, service_code: str, ward: str = "Phường 9", **extra: str
) -> dict[str, str]:
    lon, lat = district.points[ward]
    return {
        "api_key": district.key,
        "jurisdiction_id": "dothi",
        "service_code": service_code,
        "lat": str(lat),
        "long": str(lon),
        "address_string": "12 Huỳnh Văn Bánh",
        "description": "Nước ngập tới đầu gối sau mưa",
        "first_name": "Dung",
        "last_name": "Phạm",
        "email": EMAIL,
        "phone": PHONE,
        **extra,
    }


def _xml(answer: Response, root: str) -> ET.Element:
    assert answer.headers["content-type"].startswith("text/xml"), answer.text
    element = ET.fromstring(answer.content)  # noqa: S314 (our own server's answer)
    assert element.tag == root
    return element


def test_a_client_lists_services_and_posts_in_xml_then_reads_it_back(
    http: TestClient, district: District
) -> None:
    discovery = _xml(http.get("/open311/discovery.xml"), "discovery")
    endpoint = discovery.find("endpoints/endpoint")
    assert endpoint is not None and endpoint.findtext("url", "").endswith("/open311/v2")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]

    services = _xml(http.get(f"{V2}/services.xml", params={"jurisdiction_id": "dothi"}), "services")
    codes = {s.findtext("service_code"): s for s in services.findall("service")}
    assert {"trat-tu-do-thi", "cap-thoat-nuoc", "giao-thong", "tieng-on"} <= codes.keys()
    assert codes["cap-thoat-nuoc"].findtext("group") == "Hạ tầng đô thị"
    assert codes["cap-thoat-nuoc"].findtext("metadata") == "true"

    definition = _xml(http.get(f"{V2}/services/cap-thoat-nuoc.xml"), "service_definition")
    questions = {a.findtext("code"): a for a in definition.findall("attributes/attribute")}
    assert questions["do-sau-ngap"].findtext("datatype") == "number"
    assert [v.findtext("key") for v in questions["mat-nap-ho-ga"].findall("values/value")] == [
        "co",
        "khong",
    ]

    form = _form(district, "cap-thoat-nuoc", **{"attribute[do-sau-ngap]": "40"})
    posted = http.post(f"{V2}/requests.xml", data=form)
    assert posted.status_code == 201, posted.text
    request_id = _xml(posted, "service_requests").findtext("request/service_request_id")
    assert request_id

    found = _xml(http.get(f"{V2}/requests/{request_id}.xml"), "service_requests")
    request = found.find("request")
    assert request is not None
    assert request.findtext("status") == "open"
    assert request.findtext("service_code") == "cap-thoat-nuoc"
    assert request.findtext("agency_responsible") == "Công ty Thoát nước đô thị (khu vực Phú Nhuận)"
    assert request.findtext("status_notes") == "Chờ tiếp nhận"
    assert request.findtext("extended_attributes/extended_status") == "OPEN"
    assert request.findtext("expected_datetime", "").endswith("+07:00")


def test_a_client_posts_in_json_and_finds_it_in_the_list(
    http: TestClient, district: District
) -> None:
    posted = http.post(f"{V2}/requests.json", data=_form(district, "trat-tu-do-thi"))
    assert posted.status_code == 201, posted.text
    [created] = posted.json()
    request_id = created["service_request_id"]
    [request] = http.get(f"{V2}/requests/{request_id}.json").json()
    assert request["agency_responsible"] == "Ủy ban nhân dân Phường 9"
    assert request["status"] == "open" and request["long"] == district.points["Phường 9"][0]
    listed = http.get(f"{V2}/requests.json", params={"service_code": "trat-tu-do-thi"}).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    by_id = http.get(f"{V2}/requests.json", params={"service_request_id": request_id}).json()
    assert len(by_id) == 1
    assert http.get(f"{V2}/requests.json", params={"status": "closed"}).json() == []


def test_a_post_after_an_administrators_change_follows_the_change(
    http: TestClient, demo_db: Database, district: District
) -> None:
    def agency() -> str:
        posted = http.post(f"{V2}/requests.json", data=_form(district, "trat-tu-do-thi"))
        assert posted.status_code == 201, posted.text
        [request] = http.get(f"{V2}/requests/{posted.json()[0]['service_request_id']}.json").json()
        return str(request["agency_responsible"])

    assert agency() == "Ủy ban nhân dân Phường 9"
    with demo_db.write() as session:
        set_route(session, SYSTEM, "trat-tu-do-thi", district.units["phong-qldt"])
    assert agency() == "Phòng Quản lý đô thị"
    with demo_db.write() as session:
        session.execute(update(Category).values(active=False))
    refused = http.post(f"{V2}/requests.json", data=_form(district, "trat-tu-do-thi"))
    assert refused.status_code == 400 and "No such category" in refused.json()[0]["description"]


@pytest.mark.parametrize(
    ("method", "path", "fields", "status"),
    [
        ("post", "/requests.xml", {"api_key": "not-a-key"}, 403),
        ("post", "/requests.json", {"api_key": ""}, 403),
        ("post", "/requests.json", {"service_code": "khong-co"}, 400),
        ("post", "/requests.xml", {"lat": "north"}, 400),
        ("post", "/requests.json", {"lat": "48.85", "long": "2.35"}, 400),  # Paris
        ("post", "/requests.json", {"jurisdiction_id": "hanoi"}, 404),
        ("post", "/requests.json", {"attribute[khong-co]": "1"}, 400),
        ("get", "/requests/PA00000000.xml", {}, 404),
        ("get", "/services/khong-co.json", {}, 404),
        ("get", "/services.yaml", {}, 400),
        ("get", "/requests.json?start_date=hom-qua", {}, 400),
    ],
)
def test_errors_are_open311_error_lists(
    http: TestClient,
    district: District,
    method: str,
    path: str,
    fields: dict[str, str],
    status: int,
) -> None:
    if method == "post":
        answer = http.post(V2 + path, data={**_form(district, "trat-tu-do-thi"), **fields})
    else:
        answer = http.get(V2 + path)
    assert answer.status_code == status, answer.text
    if path.split("?")[0].endswith(".xml"):
        errors = _xml(answer, "errors").findall("error")
        assert errors and errors[0].findtext("code") == str(status)
        assert errors[0].findtext("description")
    else:
        body = answer.json()
        assert body and body[0]["code"] == status and body[0]["description"]


def test_updates_flow_both_ways_with_upper_case_statuses(
    http: TestClient, demo_db: Database, district: District, clock: FixedClock
) -> None:
    posted = http.post(f"{V2}/requests.json", data=_form(district, "trat-tu-do-thi"))
    request_id = posted.json()[0]["service_request_id"]
    clock.advance(timedelta(hours=1))
    with demo_db.write() as session:
        workflow.resolve(session, actor(demo_db, "officer.p9"), clock, request_id, "Đã giải tỏa")
    updates = _xml(http.get(f"{V2}/servicerequestupdates.xml"), "service_request_updates")
    statuses = [u.findtext("status") for u in updates.findall("request_update")]
    assert statuses == ["OPEN", "FIXED"]
    [request] = http.get(f"{V2}/requests/{request_id}.json").json()
    assert request["status"] == "closed" and request["status_notes"] == "Đã xử lý: Đã giải tỏa"

    reopen = {"api_key": district.key, "service_request_id": request_id, "status": "OPEN"}
    answer = http.post(
        f"{V2}/servicerequestupdates.xml", data={**reopen, "description": "Vẫn còn lấn chiếm"}
    )
    assert answer.status_code == 201, answer.text
    assert _xml(answer, "service_request_updates").findtext("request_update/update_id")
    [request] = http.get(f"{V2}/requests/{request_id}.json").json()
    assert request["status"] == "open"
    assert request["extended_attributes"]["state_name"] == "Chờ tiếp nhận"
    refused = http.post(f"{V2}/servicerequestupdates.json", data={**reopen, "api_key": "x"})
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403


def test_no_public_response_ever_holds_the_reporters_phone_or_email(
    http: TestClient, demo_db: Database, district: District, clock: FixedClock
) -> None:
    ids = []
    for code in ("trat-tu-do-thi", "cap-thoat-nuoc", "an-ninh-trat-tu"):
        posted = http.post(f"{V2}/requests.json", data=_form(district, code))
        ids.append(posted.json()[0]["service_request_id"])
    with demo_db.write() as session:
        officer = actor(demo_db, "officer.p9")
        # A careless public note and a description naming the contact are masked too.
        workflow.accept(session, officer, clock, ids[0], f"Đã gọi số {PHONE[:4]} {PHONE[4:]}")
        workflow.comment(session, clock, ids[1], f"Liên hệ {EMAIL} hoặc {PHONE}")
        contact = service.reporter_contact(session, SYSTEM, ids[0], clock)
        assert contact.reporter_phone == PHONE  # stored, and shown to officers on demand
    paths = [
        "/open311/discovery.{f}",
        V2 + "/services.{f}",
        *(f"{V2}/services/{code}.{{f}}" for code in ("trat-tu-do-thi", "cap-thoat-nuoc")),
        V2 + "/requests.{f}",
        *(f"{V2}/requests/{request_id}.{{f}}" for request_id in ids),
        V2 + "/servicerequestupdates.{f}",
    ]
    leaks: list[str] = []
    seen: list[Any] = []
    for path in paths:
        for fmt in ("json", "xml"):
            answer = http.get(path.format(f=fmt))
            assert answer.status_code in (200, 404), answer.text
            seen.append(answer.status_code)
            digits = "".join(ch for ch in answer.text if ch.isdigit())
            leaks += [path for value in (EMAIL, "Phạm") if value in answer.text]
            leaks += [path for value in (PHONE, PHONE[1:]) if value in digits]
    assert leaks == []
    assert seen.count(404) == 2  # the security report is not public, in either format


def test_control_characters_are_refused_and_never_break_the_xml(
    http: TestClient, district: District
) -> None:
    form = _form(district, "trat-tu-do-thi", description="ổ gà \x01 \x0b lớn")
    refused = http.post(f"{V2}/requests.xml", data=form)
    assert refused.status_code == 400 and b"control characters" in refused.content
    document = xml_document("service_requests", "request", [{"description": "a\x01b\x0bc"}])
    root = ET.fromstring(document)  # noqa: S314 (ours; it parses: bad characters were replaced)
    assert root.findtext("request/description") == "a\ufffdb\ufffdc"
