"""The NGSI-LD query language and the near geo-query, on entities in normalized form."""

from __future__ import annotations

import pytest

from dothi.core.geo import distance_m
from dothi.errors import InvalidInput
from dothi.telemetry.query import parse_near, parse_q

STATION = {
    "id": "urn:ngsi-ld:AirQualityObserved:pn-1",
    "type": "AirQualityObserved",
    "pm25": {"type": "Property", "value": 41.5, "observedAt": "2026-11-20T02:55:00Z"},
    "name": {"type": "Property", "value": "Trạm Phan Xích Long"},
    "status": {"type": "Property", "value": "ok"},
    "address": {"type": "Property", "value": {"district": "Phú Nhuận", "ward": "7"}},
    "tags": {"type": "Property", "value": ["air", "public"]},
    "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d-1"},
}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("pm25>35", True),
        ('pm25<=41.5;status=="ok"', True),
        ('pm25>50|status=="ok"', True),
        ('pm25>50|(status=="ok";pm25<10)', False),
        ("pm25==40..45", True),
        ('status=="warn","ok"', True),
        ('status!="ok"', False),
        ('name=~"Phan"', True),
        ('name!~="Phan"', False),
        ('address[district]=="Phú Nhuận"', True),
        ("pm25.observedAt>=2026-11-20T00:00:00Z", True),
        ("pm25.observedAt<2026-11-20T00:00:00Z", False),
        ('refDevice=="urn:ngsi-ld:Device:d-1"', True),
        ('tags=="public"', True),
        ("noise", False),
        ("pm25", True),
        ('pm25>"high"', False),
    ],
)
def test_q_matches_as_the_grammar_says(q: str, expected: bool) -> None:
    assert parse_q(q).matches(STATION) is expected


@pytest.mark.parametrize(
    "q", ["", "pm25>", "(pm25>1", "pm25>1;", 'a=~"("', ">3", "a==1)", "(" * 30 + "a" + ")" * 30]
)
def test_bad_q_is_refused_with_a_reason(q: str) -> None:
    with pytest.raises(InvalidInput):
        parse_q(q)


def test_near_keeps_what_is_within_the_distance() -> None:
    near = parse_near("near;maxDistance==1000", "Point", "[106.68, 10.80]")
    box = near.box()
    assert box is not None and box[0] < 106.68 < box[2] and box[1] < 10.80 < box[3]
    assert near.holds(106.685, 10.80)  # about 550 m east
    assert not near.holds(106.70, 10.80)  # about 2.2 km east
    assert not near.holds(None, None)
    assert 540 < distance_m(106.68, 10.80, 106.685, 10.80) < 560


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates"),
    [
        ("within", "Polygon", "[106.68, 10.80]"),
        ("near", "Point", "[106.68, 10.80]"),
        ("near;maxDistance==x", "Point", "[106.68, 10.80]"),
        ("near;maxDistance==10", "Polygon", "[106.68, 10.80]"),
        ("near;maxDistance==10", "Point", "[200, 10.80]"),
        ("near;maxDistance==10", "Point", "not json"),
    ],
)
def test_other_geo_queries_are_refused(georel: str, geometry: str, coordinates: str) -> None:
    with pytest.raises(InvalidInput):
        parse_near(georel, geometry, coordinates)
