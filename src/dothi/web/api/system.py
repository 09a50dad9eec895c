"""Operational endpoints: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from dothi import __version__
from dothi.db.migrate import current_revision, head_revision
from dothi.web.auth import require
from dothi.web.deps import DatabaseDep, ReadSession
from dothi.web.metrics import HttpMetrics

router = APIRouter(tags=["system"])


@router.get("/healthz", dependencies=[require("system:health")])
def healthz(session: ReadSession, database: DatabaseDep) -> dict[str, Any]:
    """Alive, the database answers, and its schema is the one this code expects."""
    session.execute(text("SELECT 1"))
    revision = current_revision(database.engine)
    return {
        "status": "ok" if revision == head_revision() else "migrations pending",
        "version": __version__,
        "database": database.engine.dialect.name,
        "schema": revision,
    }


@router.get("/metrics", include_in_schema=False, dependencies=[require("system:metrics")])
def metrics(request: Request) -> Response:
    """Prometheus text exposition format."""
    http_metrics: HttpMetrics = request.app.state.metrics
    return Response(generate_latest(http_metrics.registry), media_type=CONTENT_TYPE_LATEST)
