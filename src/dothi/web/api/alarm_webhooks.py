"""/api/v1 for alarm notifications: the webhooks that receive alarms, and one's own e-mail
preference. The contract for receivers is docs/notifications.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.alarms import recipients, webhooks
from dothi.alarms.delivery_models import AlarmWebhook
from dothi.alarms.recipients import EmailPreference
from dothi.alarms.webhooks import WebhookIn
from dothi.core.clock import local_date
from dothi.web.auth import require
from dothi.web.deps import ClockDep, DatabaseDep, ReadSession, SettingsDep, run_write

router = APIRouter(prefix="/api/v1", tags=["alarm notifications"])

Manager = Annotated[Principal, require("alarms:manage")]


class WebhookOut(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    format: str = Field(description="json: dothi's JSON; cap: CAP 1.2 XML")
    min_severity: str
    wards: list[str] = Field(description="Ward codes, or * for every ward")
    kinds: list[str] = Field(description="The transitions sent")
    active: bool
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Signs every body (X-Dothi-Signature, HMAC-SHA256). Shown only now: keep it."
    )


class TestOutcome(BaseModel):
    delivered: bool = Field(description="Whether the receiver answered 2xx")
    error: str | None


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailPreference


class PreferencesOut(Preferences):
    email_address_on_file: bool = Field(
        description="Whether the account has an e-mail address to send to"
    )


def _out(hook: AlarmWebhook) -> WebhookOut:
    return WebhookOut.model_validate(hook, from_attributes=True)


def _created(hook: AlarmWebhook) -> WebhookCreated:
    return WebhookCreated.model_validate(hook, from_attributes=True)


# Webhooks -----------------------------------------------------------------------------------


@router.get("/alarm-webhooks")
def list_webhooks(
    session: ReadSession, clock: ClockDep, settings: SettingsDep, actor: Manager
) -> list[WebhookOut]:
    """The webhooks sending the alarms of one's area, by name (secrets are never shown)."""
    day = local_date(clock.now(), settings.timezone)
    return [_out(hook) for hook in webhooks.list_webhooks(session, actor, day)]


@router.post("/alarm-webhooks", status_code=201)
async def create_webhook(
    body: WebhookIn, request: Request, clock: ClockDep, settings: SettingsDep, actor: Manager
) -> WebhookCreated:
    """Add a receiver of alarms; the answer holds its signing secret, shown this once."""
    return await run_write(
        request,
        lambda session: _created(
            webhooks.create_webhook(session, actor, body, clock, settings.timezone)
        ),
    )


@router.get("/alarm-webhooks/{hook_id}")
def get_webhook(
    hook_id: uuid.UUID,
    session: ReadSession,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Manager,
) -> WebhookOut:
    day = local_date(clock.now(), settings.timezone)
    return _out(webhooks.get_webhook(session, actor, hook_id, day))


@router.put("/alarm-webhooks/{hook_id}")
async def replace_webhook(
    hook_id: uuid.UUID,
    body: WebhookIn,
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Manager,
) -> WebhookOut:
    """Change a webhook's address, format and filters; its secret stays."""
    return await run_write(
        request,
        lambda session: _out(
            webhooks.replace_webhook(session, actor, hook_id, body, clock, settings.timezone)
        ),
    )


@router.delete("/alarm-webhooks/{hook_id}", status_code=204)
async def delete_webhook(
    hook_id: uuid.UUID, request: Request, clock: ClockDep, settings: SettingsDep, actor: Manager
) -> None:
    """Remove a webhook, with what still waited to be sent to it."""
    await run_write(
        request,
        lambda session: webhooks.delete_webhook(session, actor, hook_id, clock, settings.timezone),
    )


@router.post("/alarm-webhooks/{hook_id}/test")
def test_webhook(
    hook_id: uuid.UUID,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Manager,
) -> TestOutcome:
    """Send a signed test message now (not through the outbox) and say how it went."""
    with database.read() as session:  # not held while the receiver answers
        hook = webhooks.get_webhook(
            session, actor, hook_id, local_date(clock.now(), settings.timezone)
        )
    with httpx.Client(follow_redirects=False) as http:
        error = webhooks.send_test(http, hook, settings.cap_sender, settings.timezone, clock.now())
    return TestOutcome(delivered=error is None, error=error)


# One's own preferences ----------------------------------------------------------------------


@router.get("/me/notification-preferences")
def get_preferences(
    session: ReadSession, actor: Annotated[Principal, require("alarms:read")]
) -> PreferencesOut:
    """Which alarms one receives by e-mail (the defaults until one chooses)."""
    return _preferences_out(session, actor, recipients.email_preference(session, actor))


@router.put("/me/notification-preferences")
async def put_preferences(
    body: Preferences, request: Request, actor: Annotated[Principal, require("alarms:read")]
) -> PreferencesOut:
    """Choose the least severity one receives by e-mail, or switch e-mail off."""

    def work(session: Session) -> PreferencesOut:
        chosen = recipients.set_email_preference(session, actor, body.email)
        return _preferences_out(session, actor, chosen)

    return await run_write(request, work)


def _preferences_out(session: Session, actor: Principal, email: EmailPreference) -> PreferencesOut:
    return PreferencesOut(email=email, email_address_on_file=recipients.has_email(session, actor))
