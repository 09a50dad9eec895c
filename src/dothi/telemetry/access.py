"""Who may write what: the one check every telemetry write path makes."""

from __future__ import annotations

from dothi.accounts.permissions import Principal
from dothi.errors import Forbidden


def check_write(principal: Principal, entity_type: str, unit_path: str | None) -> None:
    """Raise Forbidden unless `principal` may write an entity of this type placed there.

    Three gates: the role (`telemetry:write`), the key's entity types, the ward scope.
    """
    principal.require("telemetry:write")
    if not principal.writes_type(entity_type):
        raise Forbidden(f"This key may not write entities of type {entity_type}.")
    principal.require_sight(unit_path)


def check_provision(principal: Principal, entity_type: str, unit_path: str | None) -> None:
    """Raise Forbidden unless `principal` may create an entity nobody registered, placed there."""
    if not principal.provision:
        raise Forbidden("Unknown entity, and this key may not create entities.")
    check_write(principal, entity_type, unit_path)


def check_command(principal: Principal, unit_path: str | None) -> None:
    """Raise Forbidden unless `principal` may command a device placed there."""
    principal.require("telemetry:command")
    principal.require_sight(unit_path)
