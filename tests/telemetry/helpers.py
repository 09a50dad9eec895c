"""Set-up shared by telemetry tests: integration principals and messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dothi.accounts.apikeys import authenticate_api_key, ensure_integration_key
from dothi.accounts.permissions import SYSTEM, Principal
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.telemetry.messages import Incoming

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
WARD_7 = (106.68893, 10.80065)
"""A point in Phường 7, Phú Nhuận (from the bundled boundaries)."""
WARD_9 = (106.67400, 10.80665)
PROVISIONER = replace(SYSTEM, username="device-gateway", provision=True)


def integration_key(database: Database, clock: FixedClock | None = None) -> str:
    """The demo's integration key (a machine user over every tree, allowed to provision)."""
    with database.write() as session:
        secret = ensure_integration_key(session, clock or FixedClock(NOW))
    assert secret is not None
    return secret


def key_principal(database: Database, secret: str) -> Principal:
    with database.read() as session:
        match = authenticate_api_key(session, secret)
    assert match is not None
    return match.principal


def message(
    entity_id: str,
    payload: dict[str, Any] | bytes,
    principal: Principal = PROVISIONER,
    received_at: datetime = NOW,
) -> Incoming:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Incoming("mqtt", entity_id, body, received_at, principal, topic=f"t/{entity_id}")
