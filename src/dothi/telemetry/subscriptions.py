"""NGSI-LD subscriptions: who is told of which entity changes, the outbox, and its delivery.

A change (entity id → attributes changed) is matched against every active,
unexpired subscription in the same transaction as the change itself, and what
matches is written to the outbox (`SubscriptionNotification`): nothing is lost if
the process dies before delivery (`notifications.py` delivers it). A subscriber is
only told of entities its owner sees (their ward scope, checked at every change).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dothi.accounts.identity import principal_by_username
from dothi.accounts.permissions import Principal
from dothi.core.clock import as_utc
from dothi.errors import Conflict, InvalidInput, NotFound
from dothi.places.service import unit_paths
from dothi.telemetry.models import Entity, Subscription, SubscriptionNotification
from dothi.telemetry.query import parse_q
from dothi.telemetry.representation import Found, iso, load


def _pattern(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
    return value


def _query(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_q(value)
        except InvalidInput as error:
            raise ValueError(error.message) from None
    return value


def _http(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+\S*$", value):
        raise ValueError("the endpoint must be an http:// or https:// URL")
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2026-01-01T00:00:00Z")
    return value


Name = Annotated[str, Field(min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class EntitySelector(_Model):
    """Which entities: a type, and optionally an id or an id pattern."""

    type: Name
    id: Annotated[str | None, Field(max_length=256)] = None
    id_pattern: Annotated[
        str | None, Field(alias="idPattern", max_length=200), AfterValidator(_pattern)
    ] = None


class Endpoint(_Model):
    uri: Annotated[str, Field(max_length=500), AfterValidator(_http)]
    accept: Literal["application/json", "application/ld+json"] = "application/json"


class NotificationParams(_Model):
    attributes: Annotated[list[Name], Field(max_length=100)] | None = None
    format: Literal["normalized", "keyValues"] = "normalized"
    endpoint: Endpoint


class SubscriptionIn(_Model):
    """An NGSI-LD subscription as a client sends it."""

    id: Annotated[str | None, Field(max_length=256, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")] = (
        None
    )
    type: Literal["Subscription"] = "Subscription"
    subscription_name: Annotated[str | None, Field(alias="subscriptionName", max_length=200)] = None
    description: Annotated[str | None, Field(max_length=1000)] = None
    entities: Annotated[list[EntitySelector], Field(min_length=1, max_length=100)] | None = None
    watched_attributes: Annotated[
        list[Name] | None, Field(alias="watchedAttributes", min_length=1, max_length=100)
    ] = None
    q: Annotated[str | None, Field(max_length=2000), AfterValidator(_query)] = None
    notification: NotificationParams
    expires_at: Annotated[datetime | None, Field(alias="expiresAt"), AfterValidator(_aware)] = None
    throttling: Annotated[int, Field(ge=0, le=86_400)] = 0
    is_active: Annotated[bool, Field(alias="isActive")] = True


# Managing subscriptions ---------------------------------------------------------------------


def _checked(document: Any) -> SubscriptionIn:
    try:
        subscription = SubscriptionIn.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"subscription {where}: {first['msg']}") from None
    if subscription.entities is None and subscription.watched_attributes is None:
        raise InvalidInput("A subscription needs entities or watchedAttributes.")
    return subscription


def _stored(subscription: SubscriptionIn) -> dict[str, Any]:
    return subscription.model_dump(mode="json", by_alias=True, exclude_none=True)


def create_subscription(
    session: Session, principal: Principal, document: Any, now: datetime
) -> Subscription:
    """Store a subscription owned by the principal; Conflict if its id is taken."""
    subscription = _checked(document)
    subscription_id = subscription.id or f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    if session.get(Subscription, subscription_id) is not None:
        raise Conflict(f"Subscription {subscription_id} already exists.")
    row = Subscription(
        id=subscription_id,
        owner=principal.username,
        created_at=now,
        modified_at=now,
        times_sent=0,
    )
    _apply(row, subscription.model_copy(update={"id": subscription_id}))
    session.add(row)
    session.flush()
    return row


def _apply(row: Subscription, subscription: SubscriptionIn) -> None:
    row.document = _stored(subscription)
    row.active = subscription.is_active
    row.expires_at = subscription.expires_at
    row.throttling = subscription.throttling


def get_subscription(session: Session, principal: Principal, subscription_id: str) -> Subscription:
    """A subscription of the principal (any, with telemetry:manage); NotFound otherwise."""
    row = session.get(Subscription, subscription_id)
    if row is None or not _may_see(principal, row):
        raise NotFound(f"No subscription {subscription_id}.")
    return row


def _may_see(principal: Principal, row: Subscription) -> bool:
    return row.owner == principal.username or principal.can("telemetry:manage")


def list_subscriptions(
    session: Session, principal: Principal, limit: int, offset: int
) -> list[Subscription]:
    """The principal's subscriptions (all of them for telemetry:manage), oldest first."""
    query = select(Subscription).order_by(Subscription.created_at, Subscription.id)
    if not principal.can("telemetry:manage"):
        query = query.where(Subscription.owner == principal.username)
    return list(session.scalars(query.limit(limit).offset(offset)))


def update_subscription(
    session: Session, principal: Principal, subscription_id: str, patch: Any, now: datetime
) -> Subscription:
    """Change the members given in `patch` (a JSON object)."""
    row = get_subscription(session, principal, subscription_id)
    if not isinstance(patch, Mapping):
        raise InvalidInput("A subscription change is a JSON object.")
    merged = {**row.document, **patch, "id": row.id}
    _apply(row, _checked(merged))
    row.modified_at = now
    session.flush()
    return row


def delete_subscription(session: Session, principal: Principal, subscription_id: str) -> None:
    session.delete(get_subscription(session, principal, subscription_id))
    session.flush()


def describe(row: Subscription, now: datetime) -> dict[str, Any]:
    """The subscription as NGSI-LD shows it, with its status and delivery statistics."""
    document = dict(row.document)
    expired = row.expires_at is not None and as_utc(row.expires_at) <= now
    document["isActive"] = row.active
    document["status"] = "expired" if expired else ("active" if row.active else "paused")
    notification = dict(document.get("notification", {}))
    notification["timesSent"] = row.times_sent
    for key, moment in (
        ("lastNotification", row.last_notification_at),
        ("lastSuccess", row.last_success_at),
        ("lastFailure", row.last_failure_at),
    ):
        if moment is not None:
            notification[key] = iso(moment)
    failed = row.last_failure_at is not None and (
        row.last_success_at is None or row.last_failure_at > row.last_success_at
    )
    notification["status"] = "failed" if failed else "ok"
    document["notification"] = notification
    return document


# Matching changes ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Owners:
    """The principals of subscription owners, looked up once per batch of changes."""

    session: Session
    cache: dict[str, Principal | None]

    def get(self, username: str) -> Principal | None:
        if username not in self.cache:
            self.cache[username] = principal_by_username(self.session, username)
        return self.cache[username]


def enqueue_for_changes(
    session: Session, changes: Mapping[str, Collection[str]], now: datetime
) -> int:
    """Write a notification to the outbox for each subscription these changes match.

    `changes` maps entity ids to the attributes that changed. Returns how many
    notifications were written. Throttled subscriptions skip the changes.
    """
    if not changes:
        return 0
    live = select(Subscription).where(
        Subscription.active.is_(True),
        or_(Subscription.expires_at.is_(None), Subscription.expires_at > now),
    )
    subscriptions = [row for row in session.scalars(live) if not _throttled(row, now)]
    if not subscriptions:
        return 0
    found = _entities(session, changes)
    paths = unit_paths(session, {f.entity.admin_unit_id for f in found if f.entity.admin_unit_id})
    owners = _Owners(session, {})
    written = 0
    for row in subscriptions:
        subscription = SubscriptionIn.model_validate(row.document)
        owner = owners.get(row.owner)
        if owner is None or not owner.can("telemetry:read"):
            continue
        matched = [
            item
            for item in found
            if owner.sees(
                paths.get(item.entity.admin_unit_id) if item.entity.admin_unit_id else None
            )
            and matches(subscription, item, changes[item.entity.id])
        ]
        if matched:
            session.add(_notification(row, subscription, matched, now))
            row.last_notification_at = now
            written += 1
    session.flush()
    return written


def _throttled(row: Subscription, now: datetime) -> bool:
    last = row.last_notification_at
    return (
        bool(row.throttling)
        and last is not None
        and now < as_utc(last) + timedelta(seconds=row.throttling)
    )


def _entities(session: Session, changes: Mapping[str, Collection[str]]) -> list[Found]:
    ids = list(changes)
    entities: list[Entity] = []
    for start in range(0, len(ids), 500):
        entities.extend(
            session.scalars(select(Entity).where(Entity.id.in_(ids[start : start + 500])))
        )
    return load(session, entities)


def matches(subscription: SubscriptionIn, item: Found, changed: Iterable[str]) -> bool:
    """Whether a change of `changed` attributes of an entity is one the subscription asked for."""
    entity = item.entity
    if subscription.entities is not None and not any(
        _selects(selector, entity.id, entity.type) for selector in subscription.entities
    ):
        return False
    watched = subscription.watched_attributes
    if watched is not None and not set(watched) & set(changed):
        return False
    return subscription.q is None or parse_q(subscription.q).matches(item.normalized())


def _selects(selector: EntitySelector, entity_id: str, entity_type: str) -> bool:
    if selector.type != entity_type:
        return False
    if selector.id is not None:
        return selector.id == entity_id
    return selector.id_pattern is None or re.search(selector.id_pattern, entity_id) is not None


def _notification(
    row: Subscription, subscription: SubscriptionIn, matched: list[Found], now: datetime
) -> SubscriptionNotification:
    attrs = subscription.notification.attributes
    key_values = subscription.notification.format == "keyValues"
    data = [item.key_values(attrs) if key_values else item.normalized(attrs) for item in matched]
    payload = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": row.id,
        "notifiedAt": iso(now),
        "data": data,
    }
    return SubscriptionNotification(
        subscription_id=row.id, created_at=now, payload=payload, attempts=0, next_attempt_at=now
    )
