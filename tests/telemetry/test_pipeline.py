"""The ingest pipeline on both backends: stored once, bad messages dead-lettered, rights checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dothi.accounts.apikeys import create_api_key
from dothi.accounts.models import User
from dothi.accounts.permissions import SYSTEM
from dothi.accounts.schemas import ApiKeyCreate
from dothi.core.clock import FixedClock
from dothi.core.events import EventBus
from dothi.db.engine import Database
from dothi.places.service import list_units
from dothi.telemetry.messages import OBSERVATIONS_STORED, Incoming, ObservationsStored
from dothi.telemetry.models import (
    DeadLetter,
    Entity,
    EntityAttribute,
    HourlyRollup,
    Observation,
)
from dothi.telemetry.pipeline import Pipeline
from dothi.telemetry.rollups import fold_all
from tests.telemetry.helpers import (
    NOW,
    WARD_7,
    WARD_9,
    integration_key,
    key_principal,
    message,
)

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
    assert fold_all(demo_db) == 1  # one hour marked, once: the duplicate marked nothing
    with demo_db.read() as session:
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
    fold_all(demo_db)
    with demo_db.read() as session:
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


def test_poison_values_are_dead_lettered_not_fatal(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    poison = [
        b'{"pm25": 1' + b"0" * 400 + b"}",  # beyond a float
        b'{"pm25": 1' + b"0" * 5000 + b"}",  # beyond Python's int parsing limit
        b'{"pm25": NaN}',
        b'{"pm25": {"value": 1.0, "observedAt": "0001-01-01T00:00:00+01:00"}}',
        b'{"name": "tr\\u0000m"}',  # PostgreSQL cannot store a NUL
        b'{"location": {"type": "Point", "coordinates": [1' + b"0" * 400 + b", 10]}}",
    ]
    messages = [message(STATION, payload) for payload in poison]
    messages += [message("urn:ngsi-ld:AirQualityObserved:a\x00b", {"pm25": 1.0})]
    messages += [message(STATION, {"pm25": 7.0})]
    outcome = pipeline.ingest(messages)
    assert outcome.stored == 1
    assert [position for position, _ in outcome.refused] == list(range(len(poison) + 1))
    assert _count(demo_db, DeadLetter) == len(poison) + 1


def test_messages_without_observed_at_are_dated_on_arrival(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    first = message(STATION, {"pm25": 10.0}, received_at=NOW - timedelta(seconds=2))
    second = message(STATION, {"pm25": 20.0}, received_at=NOW - timedelta(seconds=1))
    assert pipeline.ingest([first, second]).stored == 2
    with demo_db.read() as session:
        latest = session.scalars(select(EntityAttribute)).one()
    assert latest.number == 20.0


def test_a_refused_message_leaves_no_entity_behind(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    secret = integration_key(demo_db)
    provisioning = key_principal(demo_db, secret)
    ward_only = replace(provisioning, scope_paths=(_ward_path(demo_db, "Phường 9"),))
    outside = {"location": {"type": "Point", "coordinates": list(WARD_7)}, "pm25": 5.0}
    bad_value = {"pm25": "high"}
    outcome = pipeline.ingest(
        [
            message("urn:ngsi-ld:AirQualityObserved:elsewhere", outside, ward_only),
            message("urn:ngsi-ld:AirQualityObserved:bad", bad_value, provisioning),
        ]
    )
    assert outcome.refused[0] == (0, "This is outside your area.")
    assert len(outcome.refused) == 2
    assert _count(demo_db, Entity) == 0


def _ward_path(database: Database, name: str) -> str:
    with database.read() as session:
        wards = list_units(session, level="ward", q=name)
    return next(unit.path for unit in wards if unit.name == name)


def test_a_batch_of_new_late_and_stored_readings_stores_each_new_one_once(
    demo_db: Database,
) -> None:
    pipeline, events = _pipeline(demo_db)
    t1, t2, t3, t4 = (NOW - timedelta(minutes=m) for m in (40, 30, 20, 10))

    def pm25(value: float, at: datetime) -> Incoming:
        return message(STATION, {"pm25": {"value": value, "observedAt": at.isoformat()}})

    pipeline.ingest([pm25(1.0, t1), pm25(3.0, t3)])
    # Already stored, older and new, newer (twice: the same reading twice in a batch).
    batch = [pm25(3.0, t3), pm25(2.0, t2), pm25(4.0, t4), pm25(2.0, t2), pm25(4.0, t4)]
    outcome = pipeline.ingest(batch)
    assert (outcome.stored, outcome.duplicates) == (2, 3)
    assert outcome.newest == t4 and events[-1].stored == 2
    assert _count(demo_db, Observation) == 4
    with demo_db.read() as session:
        latest = session.scalars(select(EntityAttribute)).one()
        assert (latest.number, latest.observed_at) == (4.0, t4)
    fold_all(demo_db)
    with demo_db.read() as session:
        assert sum(session.scalars(select(HourlyRollup.count))) == 4


def test_a_batch_stores_readings_of_other_months_and_moves_entities_on_the_way(
    demo_db: Database,
) -> None:
    """New readings dated months back (their partition may not exist yet), and a message
    that moves its station between two that only report, all in one batch."""
    pipeline, _ = _pipeline(demo_db)
    at = NOW - timedelta(minutes=5)
    here = {"type": "Point", "coordinates": list(WARD_7)}
    first = (NOW - timedelta(minutes=60)).isoformat()
    pipeline.ingest(
        [message(STATION, {"location": here, "pm25": {"value": 1, "observedAt": first}})]
    )
    old = (NOW - timedelta(days=70)).isoformat()
    there = {"type": "Point", "coordinates": list(WARD_9)}
    outcome = pipeline.ingest(
        [
            message(STATION, {"pm10": {"value": 5.0, "observedAt": old}}),
            message(STATION, {"location": there, "pm25": {"value": 2.0, "observedAt": old}}),
            message(STATION, {"pm25": {"value": 3.0, "observedAt": at.isoformat()}}),
        ]
    )
    assert (outcome.stored, outcome.duplicates, outcome.refused) == (3, 0, [])
    assert outcome.changes[STATION] >= {"pm10", "pm25", "location"}
    with demo_db.read() as session:
        station = session.get_one(Entity, STATION)
        wards = {unit.id: unit.name for unit in list_units(session)}
        values = dict(session.execute(select(EntityAttribute.name, EntityAttribute.number)).all())
    assert "9" in wards[station.admin_unit_id]  # type: ignore[index]
    assert values == {"pm10": 5.0, "pm25": 3.0}
    assert _count(demo_db, Observation) == 4


def test_a_reading_another_writer_stored_meanwhile_is_not_stored_twice(
    pg_database_url: str,
) -> None:
    """Two PostgreSQL workers may both see a redelivered reading as new: the second one's
    COPY fails on the key, and it stores only what is missing."""
    database = Database(pg_database_url)
    pipeline, _ = _pipeline(database)
    at = NOW - timedelta(minutes=5)
    pipeline.ingest([message(STATION, {"pm25": {"value": 1.0, "observedAt": at.isoformat()}})])
    later = at + timedelta(minutes=1)
    with database.write() as session:  # the other worker's row, its latest value not yet moved
        series = session.scalars(select(EntityAttribute.id)).one()
        session.add(Observation(attribute_id=series, observed_at=later, number=2.0))
    document = {
        "pm25": {"value": 2.0, "observedAt": later.isoformat()},
        "pm10": {"value": 9.0, "observedAt": later.isoformat()},
    }
    outcome = pipeline.ingest([message(STATION, document)])
    assert (outcome.stored, outcome.duplicates, outcome.refused) == (1, 1, [])
    assert _count(database, Observation) == 3
    with database.read() as session:
        values = dict(session.execute(select(EntityAttribute.name, EntityAttribute.number)).all())
    assert values == {"pm25": 2.0, "pm10": 9.0}
    database.dispose()


def test_text_readings_keep_tabs_backslashes_and_line_breaks(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    lamp = "urn:ngsi-ld:Streetlight:pn-1"
    odd = "lỗi\tbóng\\đèn\r\nsố 2"
    outcome = pipeline.ingest(
        [message(lamp, {"status": {"value": odd, "observedAt": NOW.isoformat()}})]
    )
    assert outcome.stored == 1
    with demo_db.read() as session:
        assert session.scalars(select(Observation.text)).one() == odd
        assert session.scalars(select(EntityAttribute.text)).one() == odd


def test_a_value_nested_too_deeply_is_dead_lettered_with_its_reason(demo_db: Database) -> None:
    pipeline, _ = _pipeline(demo_db)
    deep = b'{"note":' + b'{"a":' * 1000 + b"1" + b"}" * 1001
    outcome = pipeline.ingest([message(STATION, deep), message(STATION, {"pm25": 3.0})])
    assert outcome.stored == 1
    assert outcome.refused == [(0, "note: the value is nested more than 32 levels deep.")]
