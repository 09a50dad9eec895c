"""Roles and permissions as data, and the `Principal` every check is made against.

A permission is `<area>:<verb>`. A role is a row of `ROLES`: adding a permission
or changing what a role may do is editing this table, nothing else. Scope is
separate from role: a principal sees the admin-unit subtrees whose materialized
paths (`/<root>/<district>/<ward>/`) prefix the object's path.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from dothi.errors import Forbidden, NotAuthenticated

PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        "places:read": "See administrative units and boundaries (open data).",
        "places:write": "Import and change administrative units.",
        "users:read": "See user accounts in one's scope (personal fields masked).",
        "users:write": "Create, change and deactivate user accounts in one's scope.",
        "users:read_personal": "See users' full name, phone and e-mail unmasked (audited).",
        "orgunits:read": "See organisational units.",
        "orgunits:write": "Create and change organisational units.",
        "audit:read": "Read the audit log of one's scope.",
        "apikeys:write": "Create and revoke API keys of machine accounts.",
        "system:health": "Ask whether the service and its database are up (load balancers).",
        "system:metrics": "Read the Prometheus metrics (give a monitoring account an API key).",
        "telemetry:read": "See sensor entities, their latest values and history "
        "(public when the deployment publishes context data).",
        "telemetry:write": "Create, change and delete entities and send observations "
        "(integration keys; limited to the key's wards and entity types).",
        "telemetry:command": "Send commands to devices, e.g. dim a streetlight.",
        "telemetry:manage": "See dead letters and every subscription of one's scope.",
        "reports:submit": "Submit citizen reports through Open311 for an app or a portal.",
        "reports:read": "See the reports of one's area with their workflow (personal data masked).",
        "reports:handle": "Accept, update, transfer, resolve and reject the reports of one's unit.",
        "reports:read_personal": "See reporters' phone and e-mail unmasked (audited).",
        "reports:moderate": "Hide public reports, edit their text and redact photos.",
        "reports:manage": "Define report categories, their routing and states.",
        "alarms:read": "See the alarms of one's area and their history.",
        "alarms:handle": "Acknowledge alarms and clear them by hand, with a reason.",
        "alarms:manage": "Define the rules that raise alarms (API and YAML import).",
        "incidents:read": "See the incidents of one's area, and one's unit's SOP steps.",
        "incidents:handle": "Acknowledge, do and skip one's unit's SOP steps; write on incidents.",
        "incidents:manage": "Open, change, dispatch, resolve and close incidents of one's area.",
        "directives:issue": "Send directives to the units of one's area; see the leader's board.",
        "directives:handle": "Acknowledge, report on and close the directives sent to one's unit.",
        "shifts:keep": "Open and close shifts, write the log book, sign handovers.",
        "cameras:read": "See the cameras of one's area, their health, coverage and (blurred) "
        "snapshots.",
        "cameras:manage": "Add, change, import and remove cameras and recorders of one's area.",
        "cameras:originals": "See snapshots without faces and plates blurred (audited).",
        "dashboard:read": "See the operations dashboard of one's area: indicators, map layers, "
        "charts, queues and search (no personal data).",
    }
)
"""Every permission dothi knows, with what it allows."""

PUBLIC_PERMISSIONS = frozenset({"places:read", "system:health"})
"""Granted to everyone, logged in or not: boundaries are open data."""


class Role(StrEnum):
    """The roles of dothi users."""

    ADMIN = "admin"
    LEADER = "leader"
    OPERATOR = "operator"
    OFFICER = "officer"
    CITIZEN = "citizen"
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """How a role is shown and what it may do."""

    label: str
    colour: str
    permissions: frozenset[str]


ROLES: Mapping[Role, RoleInfo] = MappingProxyType(
    {
        Role.ADMIN: RoleInfo("Administrator", "red", frozenset(PERMISSIONS)),
        Role.LEADER: RoleInfo(
            "Leader",
            "purple",
            frozenset(
                {
                    "users:read",
                    "users:write",
                    "orgunits:read",
                    "audit:read",
                    "telemetry:read",
                    "telemetry:command",
                    "telemetry:manage",
                    "reports:read",
                    "reports:handle",
                    "reports:read_personal",
                    "reports:moderate",
                    "alarms:read",
                    "dashboard:read",
                    "alarms:handle",
                    "alarms:manage",
                    "cameras:read",
                    "cameras:manage",
                    "incidents:read",
                    "incidents:handle",
                    "incidents:manage",
                    "directives:issue",
                    "directives:handle",
                    "shifts:keep",
                }
            ),
        ),
        Role.OPERATOR: RoleInfo(
            "IOC operator",
            "blue",
            frozenset(
                {
                    "users:read",
                    "orgunits:read",
                    "telemetry:read",
                    "telemetry:command",
                    "telemetry:manage",
                    "reports:read",
                    "reports:moderate",
                    "alarms:read",
                    "dashboard:read",
                    "alarms:handle",
                    "alarms:manage",
                    "cameras:read",
                    "cameras:manage",
                    "incidents:read",
                    "incidents:handle",
                    "incidents:manage",
                    "directives:handle",
                    "shifts:keep",
                }
            ),
        ),
        Role.OFFICER: RoleInfo(
            "Officer",
            "green",
            frozenset(
                {
                    "users:read",
                    "orgunits:read",
                    "audit:read",
                    "telemetry:read",
                    "reports:read",
                    "reports:handle",
                    "reports:read_personal",
                    "alarms:read",
                    "dashboard:read",
                    "alarms:handle",
                    "cameras:read",
                    "incidents:read",
                    "incidents:handle",
                    "directives:handle",
                }
            ),
        ),
        Role.CITIZEN: RoleInfo("Citizen", "grey", frozenset()),
        Role.INTEGRATION: RoleInfo(
            "Integration (machine)",
            "teal",
            frozenset({"telemetry:read", "telemetry:write", "reports:submit"}),
        ),
    }
)


def check_permission(permission: str) -> str:
    """Return `permission` if dothi knows it; a typo fails when the route is declared."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission


def permissions_of(role: Role | None) -> frozenset[str]:
    """What a role (None: an anonymous caller) may do."""
    granted = ROLES[role].permissions if role is not None else frozenset()
    return granted | PUBLIC_PERMISSIONS


def is_root_path(path: str) -> bool:
    """True for the path of a root unit (`/<id>/`) or for `/`, the whole tree."""
    return path.count("/") <= 2


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a user (by session or API key), the system, or an anonymous caller."""

    user_id: uuid.UUID | None
    username: str
    role: Role | None
    scope_paths: tuple[str, ...] = ()
    org_unit_id: uuid.UUID | None = None
    # Limits of an integration key: the entity types it may write (None: any) and
    # whether it may create entities nobody registered.
    entity_types: frozenset[str] | None = None
    provision: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None

    def can(self, permission: str) -> bool:
        """Whether the role grants `permission` (or it is public)."""
        return permission in permissions_of(self.role)

    def sees(self, unit_path: str | None) -> bool:
        """Whether an object placed at `unit_path` is in scope.

        An object with no place (None) is seen only by principals with a whole
        tree (a root unit) in their scope.
        """
        if unit_path is None:
            return any(is_root_path(path) for path in self.scope_paths)
        return any(unit_path.startswith(path) for path in self.scope_paths)

    def writes_type(self, entity_type: str) -> bool:
        """Whether the principal's key limits allow writing entities of this type."""
        return self.entity_types is None or entity_type in self.entity_types

    def require(self, permission: str) -> None:
        """Raise NotAuthenticated (anonymous) or Forbidden unless the principal `can`."""
        if self.can(permission):
            return
        if not self.is_authenticated:
            raise NotAuthenticated("Please log in.")
        raise Forbidden("Your role does not allow this.")

    def require_sight(self, unit_path: str | None) -> None:
        """Raise Forbidden unless the object placed at `unit_path` is in scope."""
        if not self.sees(unit_path):
            raise Forbidden("This is outside your area.")


ANONYMOUS = Principal(user_id=None, username="anonymous", role=None)
"""A caller without credentials: public permissions only, no scope."""

SYSTEM = Principal(user_id=None, username="system", role=Role.ADMIN, scope_paths=("/",))
"""dothi itself (CLI, set-up, workers): every permission over every tree."""
