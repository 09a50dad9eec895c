"""Who is told of an alarm's transition: people by role, area and chosen severity; webhooks by
their filters. The choices are pure functions over what `load_readers` and `load_webhooks`
read once per fan-out.

- raised, reopened, worse: the operators and officers whose scope covers the alarm's ward;
- escalated: the duty leaders (leaders whose scope covers the ward), and the operators and
  officers again, since none of them acknowledged;
- reminded: the duty leaders;
- acknowledged, better, cleared: nobody by e-mail (webhooks that ask for them get them).

Each person receives only severities at or above their preference (default: warning);
users without an e-mail address, inactive or with e-mail switched off are left out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts.models import User, UserScope
from dothi.accounts.permissions import Principal, Role
from dothi.alarms.delivery_models import AlarmWebhook, Channel, NotificationPreference
from dothi.alarms.feed import FeedKind
from dothi.alarms.schemas import ALL_WARDS, SEVERITIES, Severity, rank
from dothi.errors import NotFound
from dothi.places.service import unit_ids_by_code, unit_paths

FEED_KINDS: tuple[FeedKind, ...] = get_args(FeedKind)
"""Every transition the alarm feed carries."""

_OPERATORS = frozenset({Role.OPERATOR, Role.OFFICER})
AUDIENCES: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        "raised": _OPERATORS,
        "reopened": _OPERATORS,
        "worse": _OPERATORS,
        "escalated": _OPERATORS | {Role.LEADER},
        "reminded": frozenset({Role.LEADER}),
    }
)
"""The roles e-mailed about each kind of transition (kinds not listed: nobody)."""
DEFAULT_MIN_SEVERITY: Severity = "warning"


@dataclass(frozen=True, slots=True)
class Reader:
    """A person who may be e-mailed: who they act as and the least severity they want."""

    principal: Principal
    min_severity: Severity


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A webhook's filters, its ward codes resolved to wards (None: every ward)."""

    id: uuid.UUID
    format: str
    min_severity: Severity
    kinds: frozenset[str]
    ward_ids: frozenset[uuid.UUID] | None


def emailed(
    kind: str, severity: Severity, ward_path: str | None, readers: Sequence[Reader]
) -> list[uuid.UUID]:
    """The users to e-mail about a transition of an alarm placed at `ward_path`."""
    roles = AUDIENCES.get(kind, frozenset())
    return [
        reader.principal.user_id
        for reader in readers
        if reader.principal.user_id is not None
        and reader.principal.role in roles
        and reader.principal.can("alarms:read")
        and reader.principal.sees(ward_path)
        and rank(severity) >= rank(reader.min_severity)
    ]


def webhook_wants(
    target: WebhookTarget, kind: str, severity: Severity, ward_id: uuid.UUID | None
) -> bool:
    """Whether a webhook's filters let a transition of an alarm in `ward_id` through."""
    if kind not in target.kinds or rank(severity) < rank(target.min_severity):
        return False
    return target.ward_ids is None or ward_id in target.ward_ids


def load_readers(session: Session) -> list[Reader]:
    """Every active user of an e-mailed role with an address and e-mail not switched off."""
    roles = frozenset().union(*AUDIENCES.values())
    rows = session.execute(
        select(User.id, User.username, User.role, UserScope.admin_unit_id)
        .join(UserScope, UserScope.user_id == User.id)
        .where(User.active, User.email.is_not(None), User.email != "", User.role.in_(roles))
    ).all()
    paths = unit_paths(session, {row.admin_unit_id for row in rows})
    scopes: dict[tuple[uuid.UUID, str, Role], list[str]] = defaultdict(list)
    for row in rows:
        scopes[(row.id, row.username, row.role)].append(paths[row.admin_unit_id])
    preferences = _preferences(session, {user_id for user_id, _, _ in scopes})
    readers = []
    for (user_id, username, role), scope in scopes.items():
        preference = preferences.get(user_id)
        if preference is not None and not preference.active:
            continue
        least = as_severity(preference.min_severity) if preference else DEFAULT_MIN_SEVERITY
        principal = Principal(user_id, username, role, tuple(sorted(scope)))
        readers.append(Reader(principal, least))
    return readers


def load_webhooks(session: Session, day: date) -> list[WebhookTarget]:
    """The active webhooks, their ward codes resolved on `day` (a code merged away in a
    reform since: nothing)."""
    targets = []
    for hook in session.scalars(select(AlarmWebhook).where(AlarmWebhook.active)):
        wards = None
        if ALL_WARDS not in hook.wards:
            wards = frozenset(unit_ids_by_code(session, set(hook.wards), day).values())
        severity = as_severity(hook.min_severity)
        targets.append(WebhookTarget(hook.id, hook.format, severity, frozenset(hook.kinds), wards))
    return targets


class EmailPreference(BaseModel):
    """Which alarms a person wants by e-mail."""

    model_config = ConfigDict(extra="forbid")

    min_severity: Severity = DEFAULT_MIN_SEVERITY
    active: bool = True


def email_preference(session: Session, actor: Principal) -> EmailPreference:
    """The actor's e-mail preference (the defaults if they never chose)."""
    row = session.get(NotificationPreference, (_own_id(actor), Channel.EMAIL.value))
    if row is None:
        return EmailPreference()
    return EmailPreference(min_severity=as_severity(row.min_severity), active=row.active)


def set_email_preference(
    session: Session, actor: Principal, preference: EmailPreference
) -> EmailPreference:
    """Store the actor's e-mail preference."""
    user_id = _own_id(actor)
    row = session.get(NotificationPreference, (user_id, Channel.EMAIL.value))
    if row is None:
        row = NotificationPreference(user_id=user_id, channel=Channel.EMAIL.value)
        session.add(row)
    row.min_severity, row.active = preference.min_severity, preference.active
    return preference


def has_email(session: Session, actor: Principal) -> bool:
    """Whether the actor's account has an e-mail address to send to."""
    return bool(session.scalar(select(User.email).where(User.id == _own_id(actor))))


def _own_id(actor: Principal) -> uuid.UUID:
    """The actor's user id; preferences belong to users who can read alarms."""
    actor.require("alarms:read")
    if actor.user_id is None:
        raise NotFound("Only a user has notification preferences.")
    return actor.user_id


def _preferences(
    session: Session, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, NotificationPreference]:
    rows = session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.channel == Channel.EMAIL.value,
            NotificationPreference.user_id.in_(user_ids),
        )
    )
    return {row.user_id: row for row in rows}


def as_severity(value: str) -> Severity:
    """A stored severity, typed (ValueError for a word that is not one)."""
    return SEVERITIES[SEVERITIES.index(value)]
