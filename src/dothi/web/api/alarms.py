"""/api/v1 for alarms: the rules (JSON and YAML) and the alarms of one's area."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dothi.accounts.paging import paginate
from dothi.accounts.permissions import Principal
from dothi.accounts.schemas import Page, PageQuery, Text
from dothi.alarms import catalogue, lifecycle
from dothi.alarms.io import dump_rules_yaml, load_rules_yaml
from dothi.alarms.models import Alarm, AlarmEvent, AlarmRule
from dothi.alarms.schemas import Severity, parse_rule
from dothi.alarms.views import StateFilter, alarm_with_history, alarms_query
from dothi.errors import InvalidInput
from dothi.web.auth import require
from dothi.web.deps import ClockDep, ReadSession, SettingsDep, run_write

router = APIRouter(prefix="/api/v1", tags=["alarms"])

MAX_YAML = 1 << 20  # bytes
YAML = "application/yaml"
RuleBody = Annotated[
    dict[str, Any],
    Body(
        description="A rule: `code`, `name`, `kind` (threshold, rate, no_data, stuck, state, "
        "composite), `entity_type`, `wards` and the fields of its kind; see docs/alarms.md.",
        examples=[
            {
                "code": "flood-level",
                "name": "Ngập nước trên đường",
                "kind": "threshold",
                "entity_type": "FloodMonitoring",
                "attribute": "currentLevel",
                "wards": ["*"],
                "levels": [
                    {"severity": "warning", "above": 0.1},
                    {"severity": "critical", "above": 0.3},
                ],
            }
        ],
    ),
]


class RuleOut(BaseModel):
    code: str
    kind: str
    entity_type: str
    enabled: bool
    definition: dict[str, Any]
    created_by: str
    created_at: datetime
    modified_at: datetime


class Imported(BaseModel):
    created: list[str]
    replaced: list[str]


class AlarmOut(BaseModel):
    id: uuid.UUID
    rule: str
    rule_name: str
    entity_id: str
    entity_type: str
    ward_id: uuid.UUID | None
    lon: float | None
    lat: float | None
    severity: str
    state: str
    value: float | None
    reason: str
    raised_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    escalation_level: int = Field(description="0: the operators were told; 1: the duty leader")
    reminders: int
    flaps: int = Field(description="Times it came back soon after clearing by itself")


class AlarmEventOut(BaseModel):
    at: datetime
    kind: str
    severity: str
    actor: str
    value: float | None
    note: str | None


class AlarmDetail(AlarmOut):
    history: list[AlarmEventOut]


class AlarmQuery(PageQuery):
    """Filters of the alarm list, with its paging."""

    state: StateFilter = "open"
    severity: Severity | None = None
    entity: Annotated[str | None, Field(max_length=256)] = None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Text, Field(max_length=500)] | None = None


class ClearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(min_length=1, max_length=500)]


def _rule_out(rule: AlarmRule) -> RuleOut:
    return RuleOut.model_validate(rule, from_attributes=True)


def _alarm_out(alarm: Alarm) -> AlarmOut:
    return AlarmOut(
        **{name: getattr(alarm, name) for name in AlarmOut.model_fields if hasattr(alarm, name)},
        rule=alarm.rule_code,
        ward_id=alarm.admin_unit_id,
    )


def _alarms_out(alarms: Sequence[Alarm]) -> list[AlarmOut]:
    return [_alarm_out(alarm) for alarm in alarms]


def _event_out(event: AlarmEvent) -> AlarmEventOut:
    return AlarmEventOut.model_validate(event, from_attributes=True)


# Rules --------------------------------------------------------------------------------------


@router.get("/rules")
def list_rules(
    session: ReadSession, actor: Annotated[Principal, require("alarms:read")]
) -> list[RuleOut]:
    """Every rule, by code."""
    return [_rule_out(rule) for rule in catalogue.list_rules(session, actor)]


@router.get("/rules.yaml", response_class=Response, responses={200: {"content": {YAML: {}}}})
def export_rules(
    session: ReadSession, actor: Annotated[Principal, require("alarms:read")]
) -> Response:
    """Every rule as YAML, ready to edit and import again."""
    rules = [catalogue.definition(rule) for rule in catalogue.list_rules(session, actor)]
    return Response(dump_rules_yaml(rules), media_type=YAML)


@router.post("/rules/import")
async def import_rules(
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Annotated[Principal, require("alarms:manage")],
) -> Imported:
    """Create or replace rules from a YAML document (`rules: [...]` or a list), all or none.

    Send it as the body with `Content-Type: application/yaml`.
    """
    body = await request.body()
    if len(body) > MAX_YAML:
        raise InvalidInput(f"The YAML document is larger than {MAX_YAML // 1024} KiB.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The YAML document is not UTF-8 text.") from None
    rules = load_rules_yaml(text)
    done = await run_write(
        request,
        lambda session: catalogue.import_rules(session, actor, rules, clock, settings.timezone),
    )
    return Imported(created=done.created, replaced=done.replaced)


@router.get("/rules/{code}")
def get_rule(
    code: str, session: ReadSession, actor: Annotated[Principal, require("alarms:read")]
) -> RuleOut:
    return _rule_out(catalogue.get_rule(session, actor, code))


@router.post("/rules", status_code=201)
async def create_rule(
    body: RuleBody,
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Annotated[Principal, require("alarms:manage")],
) -> RuleOut:
    """Add a rule; an invalid one is refused with what is wrong, field by field."""
    rule = parse_rule(body)
    return await run_write(
        request,
        lambda session: _rule_out(
            catalogue.create_rule(session, actor, rule, clock, settings.timezone)
        ),
    )


@router.put("/rules/{code}")
async def replace_rule(
    code: str,
    body: RuleBody,
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Annotated[Principal, require("alarms:manage")],
) -> RuleOut:
    """Replace a rule's definition (what it remembers about entities is kept)."""
    rule = parse_rule(body)
    return await run_write(
        request,
        lambda session: _rule_out(
            catalogue.replace_rule(session, actor, code, rule, clock, settings.timezone)
        ),
    )


@router.delete("/rules/{code}", status_code=204)
async def delete_rule(
    code: str,
    request: Request,
    clock: ClockDep,
    actor: Annotated[Principal, require("alarms:manage")],
) -> None:
    """Remove a rule; its alarms stay in the record."""
    await run_write(request, lambda session: catalogue.delete_rule(session, actor, code, clock))


# Alarms -------------------------------------------------------------------------------------


@router.get("/alarms")
def list_alarms(
    session: ReadSession,
    actor: Annotated[Principal, require("alarms:read")],
    query: Annotated[AlarmQuery, Query()],
) -> Page[AlarmOut]:
    """The alarms of one's area, most severe and newest first (`open`: not cleared yet)."""
    found = alarms_query(actor, query.state, query.severity, query.entity)
    return paginate(session, found, query, _alarms_out)


@router.get("/alarms/{alarm_id}")
def get_alarm(
    alarm_id: uuid.UUID,
    session: ReadSession,
    actor: Annotated[Principal, require("alarms:read")],
) -> AlarmDetail:
    """One alarm and every transition it went through."""
    alarm, events = alarm_with_history(session, actor, alarm_id)
    return AlarmDetail(
        **_alarm_out(alarm).model_dump(), history=[_event_out(event) for event in events]
    )


@router.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge(
    alarm_id: uuid.UUID,
    body: AcknowledgeIn,
    request: Request,
    clock: ClockDep,
    actor: Annotated[Principal, require("alarms:handle")],
) -> AlarmOut:
    """Acknowledge an active alarm: escalation and reminders stop."""
    return await _handle(
        request,
        lambda session: lifecycle.acknowledge(session, actor, alarm_id, body.note, clock),
        alarm_id,
    )


@router.post("/alarms/{alarm_id}/clear")
async def clear(
    alarm_id: uuid.UUID,
    body: ClearIn,
    request: Request,
    clock: ClockDep,
    actor: Annotated[Principal, require("alarms:handle")],
) -> AlarmOut:
    """Clear an open alarm by hand, saying why."""
    return await _handle(
        request,
        lambda session: lifecycle.clear_by_hand(session, actor, alarm_id, body.reason, clock),
        alarm_id,
    )


async def _handle(
    request: Request,
    transition: Callable[[Session], lifecycle.AlarmChange],
    alarm_id: uuid.UUID,
) -> AlarmOut:
    """Make a transition, announce it once committed, answer the alarm as it is now."""

    def work(session: Session) -> tuple[lifecycle.AlarmChange, AlarmOut]:
        change = transition(session)
        return change, _alarm_out(session.get_one(Alarm, alarm_id))

    change, out = await run_write(request, work)
    request.app.state.bus.publish(lifecycle.ALARMS_CHANGED, (change,))
    return out
