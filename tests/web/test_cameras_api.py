"""/api/v1/cameras and friends: the registry of one's area, CSV import all or none with the
bad lines named, credentials never answered, coverage and availability."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dothi.accounts.models import AuditEntry
from dothi.config import Settings
from dothi.db.engine import Database
from dothi.detectors.configs import FacesConfig
from dothi.detectors.faces import FaceDetector
from dothi.web.app import create_app
from tests.accounts.helpers import Town
from tests.cameras.helpers import PASSWORD, USER, snapshot_server
from tests.web.helpers import login

P2_POINT = {"lon": 106.6795, "lat": 10.7990}
CSV = """code,name,lon,lat,heading,field_of_view,range_m,purposes,stream_url,username,password
PN-T-1,Ngã tư Phú Nhuận,106.6795,10.7990,90,60,120,traffic;ai,rtsp://10.1.2.3/ch1,viewer,s3cret-1
PN-T-2,Phan Đăng Lưu,106.6890,10.8010,180,90,50,security,,,
"""


@pytest.fixture
def client(settings: Settings, demo_db: Database, town: Town) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=demo_db)) as test_client:
        yield test_client


def _import(client: TestClient, headers: dict[str, str], text: str) -> object:
    return client.post(
        "/api/v1/cameras/import",
        content=text.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )


def test_cameras_come_in_by_csv_and_go_out_without_credentials(
    client: TestClient, settings: Settings
) -> None:
    headers = login(client, settings, "admin")
    answer = client.post(
        "/api/v1/cameras/import",
        content=CSV.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 2, "updated": 0}
    listed = client.get("/api/v1/cameras").json()
    assert [c["code"] for c in listed] == ["PN-T-1", "PN-T-2"]
    assert listed[0]["purposes"] == ["traffic", "ai"] and listed[0]["has_stream"] is True
    assert "s3cret" not in client.get("/api/v1/cameras").text
    assert "10.1.2.3" not in client.get("/api/v1/cameras/PN-T-1").text
    again = client.post(
        "/api/v1/cameras/import",
        content=CSV.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert again.json() == {"created": 0, "updated": 2}


def test_a_bad_csv_names_its_lines_and_stores_nothing(
    client: TestClient, settings: Settings
) -> None:
    headers = login(client, settings, "admin")
    bad = CSV + "PN-T-3,Sai,106.68,95,0,60,50,security,,,\nPN-T-4,Sai,106.68,10.8,0,60,50,spy,,,\n"
    answer = client.post(
        "/api/v1/cameras/import",
        content=bad.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "line 4: lat" in detail and "line 5: purposes" in detail
    assert client.get("/api/v1/cameras").json() == []


def test_an_officer_manages_nothing_and_sees_only_their_ward(
    client: TestClient, settings: Settings
) -> None:
    headers = login(client, settings, "admin")
    body = {"code": "PN-T-9", "name": "Camera", **P2_POINT}
    assert client.put("/api/v1/cameras/PN-T-9", json=body, headers=headers).status_code == 201
    assert client.put("/api/v1/cameras/PN-T-9", json=body, headers=headers).status_code == 200
    ward = client.get("/api/v1/cameras/PN-T-9").json()["ward_name"]
    client.cookies.clear()
    other = "officer.p2" if ward != "Phường 2" else "officer.p9"
    officer = login(client, settings, other)
    assert client.get("/api/v1/cameras").json() == []
    assert client.get("/api/v1/cameras/PN-T-9").status_code == 404
    refused = client.put("/api/v1/cameras/PN-T-9", json=body, headers=officer)
    assert refused.status_code == 403


def test_bad_requests_are_refused_readably(client: TestClient, settings: Settings) -> None:
    headers = login(client, settings, "admin")
    body = {"code": "PN-T-9", "name": "Camera", **P2_POINT}
    mismatch = client.put("/api/v1/cameras/OTHER", json=body, headers=headers)
    assert mismatch.status_code == 422 and "OTHER" in mismatch.json()["detail"]
    assert client.get("/api/v1/cameras?health=broken").status_code == 422
    assert client.get("/api/v1/cameras?ward=99999").status_code == 422
    period = client.get("/api/v1/camera-availability?start=2026-12-02T00:00Z&end=2026-12-01T00:00Z")
    assert period.status_code == 422


def test_coverage_and_availability_are_answered(client: TestClient, settings: Settings) -> None:
    headers = login(client, settings, "admin")
    body = {"code": "PN-T-9", "name": "Camera", **P2_POINT, "range_m": 200, "heading": 0}
    client.put("/api/v1/cameras/PN-T-9", json=body, headers=headers)
    coverage = client.get("/api/v1/camera-coverage").json()
    assert coverage["total"]["length_m"] > 25_000 and len(coverage["wards"]) == 15
    assert coverage["watched"]["type"] in ("MultiLineString", "LineString", "GeometryCollection")
    available = client.get("/api/v1/camera-availability").json()
    assert [c["code"] for c in available["cameras"]] == ["PN-T-9"]
    assert available["cameras"][0]["ratio"] == 0  # never probed: unknown is not online


@pytest.fixture
def snapshot_url() -> Iterator[str]:
    with snapshot_server() as url:
        yield url


def _faces(picture: bytes) -> int:
    frame = cv2.imdecode(numpy.frombuffer(picture, numpy.uint8), cv2.IMREAD_COLOR)
    assert frame is not None
    return len(FaceDetector(FacesConfig()).detect(frame))


def test_a_snapshot_shows_no_face_and_an_original_is_audited(
    client: TestClient, settings: Settings, demo_db: Database, snapshot_url: str
) -> None:
    headers = login(client, settings, "admin")
    body = {"code": "PN-S-1", "name": "Cổng chợ", **P2_POINT, "snapshot_url": snapshot_url}
    body |= {"username": USER, "password": PASSWORD}
    assert client.put("/api/v1/cameras/PN-S-1", json=body, headers=headers).status_code == 201
    shown = client.get("/api/v1/cameras/PN-S-1/snapshot")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert _faces(shown.content) == 0
    original = client.get("/api/v1/cameras/PN-S-1/snapshot?original=true")
    assert original.headers["cache-control"] == "no-store" and _faces(original.content) == 1
    with demo_db.read() as session:
        viewed = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "camera.original_viewed")
        ).all()
    assert viewed == ["admin"]
    client.cookies.clear()
    login(client, settings, "operator")
    assert client.get("/api/v1/cameras/PN-S-1/snapshot").status_code == 200
    assert client.get("/api/v1/cameras/PN-S-1/snapshot?original=true").status_code == 403


def test_a_camera_without_a_picture_says_so(client: TestClient, settings: Settings) -> None:
    headers = login(client, settings, "admin")
    body = {"code": "PN-S-2", "name": "Camera", **P2_POINT}
    client.put("/api/v1/cameras/PN-S-2", json=body, headers=headers)
    assert client.get("/api/v1/cameras/PN-S-2/snapshot").status_code == 404
    body["snapshot_url"] = "http://127.0.0.1:9/none.jpg"  # the discard port: nobody answers
    client.put("/api/v1/cameras/PN-S-2", json=body, headers=headers)
    unreachable = client.get("/api/v1/cameras/PN-S-2/snapshot")
    assert unreachable.status_code == 502 and "PN-S-2" in unreachable.json()["detail"]
