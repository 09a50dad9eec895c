"""The ingest pipeline on both backends: stored once, bad messages dead-lettered, rights checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from dothi.accounts.apikeys import create_api_key
from dothi.accounts.models import User
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import ApiKeyCreate
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.telemetry.messages import OBSERVATIONS_STORED, ObservationsStored
from dothi.telemetry.models import (
    DeadLetter,
    Entity,
    EntityAttribute,
    HourlyRollup,
    Observation,
)
from dothi.telemetry.pipeline import Pipeline
from tests.telemetry.helpers import NOW, WARD_7, integration_key, key_principal, message

STATION = "urn:ngsi-ld:AirQualityObserved:pn-w7"


def _pipeline(database: Database) -> tuple[Pipeline, list[ObservationsStored]]:
    bus = EventBus()
    events: list[ObservationsStored] = []
    bus.subscribe(OBSERVATIONS_STORED, events.append)
    return Pipeline(database, bus, FixedClock(NOW), "Asia/Ho_Chi_Minh"), events


def _count(database: Database, model: type[object]) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_station_is_provisioned_placed_and_its_readings_stored_once(demo_db: Database) -> None:
    pipeline, events = _pipeline(demo_db)
    at = (NOW - timedelta(minutes=5)).isoformat()
    payload = {
        "location": {"type": "Point", "coordinates": list(WARD_7)},
        "pm25": {"value": 41.5, "observedAt": at, "unitCode": "GQ"},
        "pm10": {"value": 63, "observedAt": at},
        "temperature": {"value": 31.2, "observedAt": at},
        "relativeHumidity": {"value": 0.71, "observedAt": at},
        "airQualityIndex": {"value": 112, "observedAt": at},
    }
    first = pipeline.ingest([message(STATION, payload)])
    again = pipeline.ingest([message(STATION, payload)])  # redelivered: stored once
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (5, 0, 0, 5)
    assert _count(demo_db, Observation) == 5
    with demo_db.read() as session:
        station = session.get(Entity, STATION)
        assert station is not None and station.admin_unit_id is not None
        assert station.properties["location"]["type"] == "GeoProperty"
        pm25 = session.scalars(select(EntityAttribute).where(EntityAttribute.name == "pm25")).one()
        assert (pm25.number, pm25.unit_code) == (41.5, "GQ")
        rollup = session.scalars(
            select(HourlyRollup).where(HourlyRollup.attribute_id == pm25.id)
        ).one()
        assert (rollup.count, rollup.total, rollup.last) == (1, 41.5, 41.5)
    assert len(events) == 1 and events[0].changes[STATION] >= {"pm25", "pm10"}


def test_latest_value_and_rollups_follow_time_not_arrival(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    times = [NOW - timedelta(minutes=m) for m in (10, 30, 20)]  # arrives out of order
    for value, at in zip((10.0, 30.0, 20.0), times, strict=True):
        pipeline.ingest(
            [message(STATION, {"pm25": {"value": value, "observedAt": at.isoformat()}})]
        )
    with demo_db.read() as session:
        pm25 = session.scalars(select(EntityAttribute)).one()
        assert pm25.number == 10.0 and pm25.observed_at == times[0]
        hours = session.scalars(select(HourlyRollup).order_by(HourlyRollup.hour)).all()
        assert sum(h.count for h in hours) == 3
        assert min(h.minimum for h in hours) == 10.0 and max(h.maximum for h in hours) == 30.0


def test_a_malformed_payload_is_dead_lettered_and_its_neighbour_stored(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    outcome = pipeline.ingest(
        [
            message(STATION, b"{not json"),
            message(STATION, {"pm25": 12.0}),
            message(STATION, {"pm25": "very high"}),
            message("not-an-urn", {"pm25": 1.0}),
            message(STATION, {"relativeHumidity": 71}),  # a ratio, not a percentage
        ]
    )
    assert outcome.stored == 1
    reasons = dict(outcome.refused)
    assert sorted(reasons) == [0, 2, 3, 4]
    assert "not JSON" in reasons[0] and "expected a number" in reasons[2]
    assert "urn:ngsi-ld" in reasons[3] and "outside [0.0, 1.0]" in reasons[4]
    with demo_db.read() as session:
        letters = session.scalars(select(DeadLetter)).all()
    assert {letter.payload for letter in letters} >= {b"{not json"}
    assert all(letter.reason and letter.sender == "device-gateway" for letter in letters)


def test_keys_are_held_to_their_types_wards_and_provisioning(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    secret = integration_key(demo_db)
    provisioning = key_principal(demo_db, secret)
    pipeline.ingest([message(STATION, {"pm25": 1.0}, provisioning)])
    with demo_db.write() as session:
        user = session.scalars(select(User).where(User.username == "integration")).one()
        limited = create_api_key(
            session,
            SYSTEM,
            user.id,
            ApiKeyCreate(name="lights only", entity_types=["Streetlight"]),
            FixedClock(NOW),
        ).secret
    lights_only = key_principal(demo_db, limited)
    outcome = pipeline.ingest(
        [
            message(STATION, {"pm25": 2.0}, lights_only),  # wrong type
            message("urn:ngsi-ld:Streetlight:new", {"powerState": "on"}, lights_only),  # unknown
            message(STATION, {"pm25": 3.0}, replace(provisioning, scope_paths=())),  # no scope
        ]
    )
    reasons = dict(outcome.refused)
    assert outcome.stored == 0 and sorted(reasons) == [0, 1, 2]
    assert "type AirQualityObserved" in reasons[0]
    assert "may not create" in reasons[1]
    assert "outside your area" in reasons[2]
