"""The entity service on both backends: wards located, scope kept on reads, writes checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dothi.accounts.permissions import ANONYMOUS
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Forbidden, NotFound
from dothi.telemetry.entities import Actor, EntityQuery, create_entity, get_entity, query_entities
from dothi.telemetry.models import Entity
from tests.accounts.helpers import START, build_town, principal
from tests.telemetry.helpers import NOW, WARD_7, integration_key, key_principal

LAMP_ID = "urn:ngsi-ld:Streetlight:w7-1"
LAMP = {
    "id": LAMP_ID,
    "type": "Streetlight",
    "location": {"type": "Point", "coordinates": list(WARD_7)},
    "powerState": "on",
}


def test_reads_stay_in_the_readers_wards(demo_db: Database) -> None:
    build_town(demo_db, FixedClock(START))
    actor = Actor(key_principal(demo_db, integration_key(demo_db)), NOW)
    with demo_db.write() as session:
        entity = create_entity(session, actor, LAMP)
        create_entity(session, actor, {"id": "urn:ngsi-ld:Device:nowhere", "type": "Device"})
    assert entity.admin_unit_id is not None
    officer_7, officer_2 = principal(demo_db, "officer.p7"), principal(demo_db, "officer.p2")
    everything = EntityQuery(limit=100)
    with demo_db.read() as session:
        assert get_entity(session, officer_7, LAMP_ID).key_values()["powerState"] == "on"
        with pytest.raises(NotFound):
            get_entity(session, officer_2, LAMP_ID)
        assert query_entities(session, officer_2, everything)[1] == 0
        assert query_entities(session, officer_7, everything)[1] == 1  # not the unplaced one
        assert query_entities(session, ANONYMOUS, everything)[1] == 2  # public deployments


def test_a_key_writes_only_its_types(demo_db: Database) -> None:
    key = key_principal(demo_db, integration_key(demo_db))
    actor = Actor(replace(key, entity_types=frozenset({"AirQualityObserved"})), NOW)
    with demo_db.write() as session, pytest.raises(Forbidden):
        create_entity(session, actor, LAMP)
    with demo_db.read() as session:
        assert session.get(Entity, LAMP_ID) is None
