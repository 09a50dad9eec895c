"""Webhooks that receive alarm transitions: created, read, replaced, removed, tried.

Managing them takes `alarms:manage`, and a webhook's wards must lie in the manager's
area (all wards, `*`, only for someone who sees the whole tree): a ward leader cannot
send the district's alarms elsewhere. The secret that signs the bodies is made here and
shown once, when the webhook is created. Every change is in the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    UrlConstraints,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import audit
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Text
from dothi.alarms import cap
from dothi.alarms.channels import WebhookCall, post_webhook
from dothi.alarms.delivery_models import AlarmWebhook, WebhookFormat
from dothi.alarms.feed import FeedKind
from dothi.alarms.notices import Notice
from dothi.alarms.payloads import JSON_TYPE, json_body
from dothi.alarms.recipients import FEED_KINDS
from dothi.alarms.schemas import ALL_WARDS, Severity, WardCode
from dothi.core.clock import Clock, as_utc, local_date
from dothi.core.ids import random_secret
from dothi.errors import Forbidden, InvalidInput, NotFound
from dothi.places.service import unit_ids_by_code, unit_paths

MAX_URL = 2000


def _storable_url(url: HttpUrl) -> HttpUrl:
    """Refuse a URL longer than the column once normalised (an IDN host grows in punycode)."""
    if len(str(url)) > MAX_URL:
        raise ValueError(f"a URL has at most {MAX_URL} characters")
    return url


WebhookUrl = Annotated[
    HttpUrl,
    UrlConstraints(max_length=MAX_URL, allowed_schemes=["http", "https"]),
    AfterValidator(_storable_url),
]
TEST_RULE = "Kiểm tra kết nối webhook"


class WebhookIn(BaseModel):
    """A webhook as its manager writes it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    url: WebhookUrl
    format: WebhookFormat = WebhookFormat.JSON
    min_severity: Severity = "info"
    wards: list[WardCode] = Field(default=[ALL_WARDS], min_length=1, max_length=500)
    kinds: list[FeedKind] = Field(default=list(FEED_KINDS), min_length=1)
    active: bool = True


def create_webhook(
    session: Session, actor: Principal, data: WebhookIn, clock: Clock, zone: str
) -> AlarmWebhook:
    """A new webhook with a fresh secret (the caller shows it once)."""
    actor.require("alarms:manage")
    _check_wards(session, actor, data.wards, local_date(clock.now(), zone))
    hook = AlarmWebhook(
        secret=random_secret(32), created_by=actor.username[:64], created_at=clock.now()
    )
    _fill(hook, data)
    session.add(hook)
    session.flush()
    _audit(session, actor, clock, "alarm_webhook.created", hook)
    return hook


def list_webhooks(session: Session, actor: Principal, day: date) -> list[AlarmWebhook]:
    """The webhooks of the actor's area, by name."""
    actor.require("alarms:manage")
    hooks = session.scalars(select(AlarmWebhook).order_by(AlarmWebhook.name, AlarmWebhook.id))
    return [hook for hook in hooks if _in_sight(session, actor, hook.wards, day)]


def get_webhook(session: Session, actor: Principal, hook_id: uuid.UUID, day: date) -> AlarmWebhook:
    """One webhook of the actor's area; NotFound or Forbidden otherwise."""
    actor.require("alarms:manage")
    hook = session.get(AlarmWebhook, hook_id)
    if hook is None:
        raise NotFound("No such webhook.")
    if not _in_sight(session, actor, hook.wards, day):
        raise Forbidden("This webhook sends alarms from outside your area.")
    return hook


def replace_webhook(
    session: Session,
    actor: Principal,
    hook_id: uuid.UUID,
    data: WebhookIn,
    clock: Clock,
    zone: str,
) -> AlarmWebhook:
    """Change a webhook's address, format and filters (its secret stays)."""
    day = local_date(clock.now(), zone)
    hook = get_webhook(session, actor, hook_id, day)
    _check_wards(session, actor, data.wards, day)
    _fill(hook, data)
    _audit(session, actor, clock, "alarm_webhook.replaced", hook)
    return hook


def delete_webhook(
    session: Session, actor: Principal, hook_id: uuid.UUID, clock: Clock, zone: str
) -> None:
    """Remove a webhook and what still waits to be sent to it."""
    hook = get_webhook(session, actor, hook_id, local_date(clock.now(), zone))
    _audit(session, actor, clock, "alarm_webhook.deleted", hook)
    session.delete(hook)


def send_test(
    http: httpx.Client, hook: AlarmWebhook, cap_sender: str, zone: str, now: datetime
) -> str | None:
    """POST a test message (CAP status `Test`, JSON `"test": true`); the error, or None."""
    key = f"alarm-webhook-test:{uuid.uuid4()}"
    notice = Notice(
        0,
        "raised",
        as_utc(now),
        "info",
        {"rule_name": TEST_RULE, "reason": "Tin thử từ dothi: không có cảnh báo nào."},
        None,
    )
    if hook.format == WebhookFormat.CAP:
        body, media = cap.alert(notice, key, cap_sender, zone, status="Test"), cap.CAP_TYPE
    else:
        body, media = json_body(notice, key, test=True), JSON_TYPE
    return post_webhook(http, WebhookCall(hook.url, hook.secret, key, media, body), now)


def _fill(hook: AlarmWebhook, data: WebhookIn) -> None:
    hook.name, hook.url, hook.format = data.name, str(data.url), data.format.value
    hook.min_severity, hook.active = data.min_severity, data.active
    hook.wards = sorted(set(data.wards))
    hook.kinds = [kind for kind in FEED_KINDS if kind in data.kinds]


def _check_wards(session: Session, actor: Principal, wards: Collection[str], day: date) -> None:
    """InvalidInput for codes no unit carries; Forbidden for wards outside the actor's area."""
    if ALL_WARDS not in wards:
        unknown = sorted(set(wards) - set(unit_ids_by_code(session, set(wards), day)))
        if unknown:
            raise InvalidInput(f"wards: no ward has the code {', '.join(unknown)}.")
    if not _in_sight(session, actor, wards, day):
        raise Forbidden("These wards are outside your area.")


def _in_sight(session: Session, actor: Principal, wards: Collection[str], day: date) -> bool:
    """Whether the actor sees every ward of a webhook (`*`: the whole tree)."""
    if ALL_WARDS in wards:
        return actor.sees(None)
    ids = set(unit_ids_by_code(session, set(wards), day).values())
    return all(actor.sees(path) for path in unit_paths(session, ids).values())


def _audit(
    session: Session, actor: Principal, clock: Clock, action: str, hook: AlarmWebhook
) -> None:
    """Record a change by name and host: a URL's path or query may carry a token."""
    detail = {"name": hook.name, "host": urlsplit(hook.url).hostname or ""}
    audit.record(
        session,
        clock,
        actor.username,
        action,
        object_type="alarm_webhook",
        object_id=hook.id,
        detail=detail,
    )
