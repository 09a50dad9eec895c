"""NGSI-LD under /ngsi-ld/v1: temporal evolution of entities, and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dothi.accounts.permissions import Principal
from dothi.core.clock import Clock, as_utc
from dothi.errors import InvalidInput
from dothi.telemetry import entities, subscriptions, temporal
from dothi.telemetry.representation import Found
from dothi.web.auth import require
from dothi.web.deps import ReadSession, WriteSession
from dothi.web.standards.ngsi_ld_common import (
    PREFIX,
    Count,
    Offset,
    Options,
    Reader,
    Selection,
    answer,
    options_of,
    split,
)

router = APIRouter(prefix=PREFIX, tags=["ngsi-ld"])

EntityId = Annotated[str, Path(max_length=256, description="The entity's URI.")]
SubscriptionId = Annotated[str, Path(max_length=256, description="The subscription's URI.")]
Subscriber = Annotated[Principal, require("telemetry:read")]
_TEMPORAL_OPTIONS = frozenset({"temporalValues", "aggregatedValues", "count", "sysAttrs"})


class TimeParams:
    """The temporal parameters shared by both temporal routes."""

    def __init__(
        self,
        timerel: Literal["before", "after", "between"] | None = None,
        time_at: Annotated[datetime | None, Query(alias="timeAt")] = None,
        end_time_at: Annotated[datetime | None, Query(alias="endTimeAt")] = None,
        timeproperty: Literal["observedAt"] = "observedAt",
        last_n: Annotated[int | None, Query(alias="lastN", ge=1, le=temporal.MAX_INSTANCES)] = None,
        options: Options = None,
        aggr_methods: Annotated[str | None, Query(alias="aggrMethods", max_length=100)] = None,
        aggr_period: Annotated[str | None, Query(alias="aggrPeriodDuration", max_length=40)] = None,
    ) -> None:
        self.timerel = timerel
        self.time_at = as_utc(time_at) if time_at is not None else None
        self.end_time_at = as_utc(end_time_at) if end_time_at is not None else None
        self.last_n = last_n
        self.options = options
        self.aggr_methods = aggr_methods
        self.aggr_period = aggr_period

    def render(
        self, session: Session, found: list[Found], attrs: frozenset[str] | None
    ) -> list[dict[str, Any]]:
        flags = options_of(self.options, _TEMPORAL_OPTIONS)
        query = temporal.TimeQuery(self.timerel, self.time_at, self.end_time_at, attrs, self.last_n)
        query.bounds()  # refuse a bad range even when no entity matches
        if "aggregatedValues" in flags:
            if self.aggr_methods is None:
                raise InvalidInput("aggregatedValues needs aggrMethods.")
            aggregation = temporal.Aggregation(
                temporal.parse_methods(self.aggr_methods),
                temporal.parse_duration(self.aggr_period or "PT0S"),
            )
            return [temporal.aggregated(session, item, query, aggregation) for item in found]
        simplified = "temporalValues" in flags
        return [temporal.temporal(session, item, query, simplified=simplified) for item in found]


Time = Annotated[TimeParams, Depends()]


@router.get("/temporal/entities")
@router.get("/temporal/entities/", include_in_schema=False)
def query_temporal(
    request: Request,
    session: ReadSession,
    principal: Reader,
    selection: Annotated[Selection, Depends()],
    time: Time,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
    count: Count = False,
) -> Response:
    """The temporal evolution of the entities a query selects."""
    found, total = entities.query_entities(session, principal, selection.query(limit, offset))
    counted = count or "count" in options_of(time.options, _TEMPORAL_OPTIONS)
    return answer(
        request, time.render(session, found, selection.attrs), count=total if counted else None
    )


@router.get("/temporal/entities/{entity_id}")
def get_temporal(
    request: Request,
    session: ReadSession,
    principal: Reader,
    entity_id: EntityId,
    time: Time,
    attrs: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """The temporal evolution of one entity."""
    found = entities.get_entity(session, principal, entity_id)
    wanted = frozenset(split(attrs)) or None
    return answer(request, time.render(session, [found], wanted)[0])


# Subscriptions ------------------------------------------------------------------------------


def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


@router.post("/subscriptions", status_code=201)
@router.post("/subscriptions/", include_in_schema=False)
def create_subscription(
    request: Request,
    session: WriteSession,
    principal: Subscriber,
    document: Annotated[dict[str, Any], Body(description="An NGSI-LD Subscription.")],
) -> Response:
    """Subscribe an endpoint to entity changes (201 with its Location)."""
    row = subscriptions.create_subscription(session, principal, document, _now(request))
    return Response(status_code=201, headers={"Location": f"{PREFIX}/subscriptions/{row.id}"})


@router.get("/subscriptions")
@router.get("/subscriptions/", include_in_schema=False)
def list_subscriptions(
    request: Request,
    session: ReadSession,
    principal: Subscriber,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Offset = 0,
) -> Response:
    """One's subscriptions (every one, with telemetry:manage)."""
    rows = subscriptions.list_subscriptions(session, principal, limit, offset)
    now = _now(request)
    return answer(request, [subscriptions.describe(row, now) for row in rows])


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    request: Request, session: ReadSession, principal: Subscriber, subscription_id: SubscriptionId
) -> Response:
    """A subscription with its status and delivery statistics."""
    row = subscriptions.get_subscription(session, principal, subscription_id)
    return answer(request, subscriptions.describe(row, _now(request)))


@router.patch("/subscriptions/{subscription_id}", status_code=204)
def update_subscription(
    request: Request,
    session: WriteSession,
    principal: Subscriber,
    subscription_id: SubscriptionId,
    patch: Annotated[dict[str, Any], Body(description="The members to change.")],
) -> Response:
    """Change a subscription (e.g. isActive, throttling, expiresAt)."""
    subscriptions.update_subscription(session, principal, subscription_id, patch, _now(request))
    return Response(status_code=204)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(
    session: WriteSession, principal: Subscriber, subscription_id: SubscriptionId
) -> Response:
    """Delete a subscription and its undelivered notifications."""
    subscriptions.delete_subscription(session, principal, subscription_id)
    return Response(status_code=204)
