"""Operational endpoints: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dothi import __version__
from dothi.db.migrate import current_revision, head_revision
from dothi.telemetry.operations import dead_letter_counts
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
def metrics(request: Request, session: ReadSession) -> Response:
    """Prometheus text exposition format: this process's HTTP figures, the database's counts."""
    http_metrics: HttpMetrics = request.app.state.metrics
    text = generate_latest(http_metrics.registry) + generate_latest(_database_figures(session))
    return Response(text, media_type=CONTENT_TYPE_LATEST)


def _database_figures(session: Session) -> CollectorRegistry:
    """Counts kept in the database, true across every process (API servers, ingest workers)."""
    registry = CollectorRegistry()
    letters = Gauge(
        "dothi_dead_letters",
        "Messages the ingest pipeline refused and kept, by source",
        ["source"],
        registry=registry,
    )
    for source, count in dead_letter_counts(session).items():
        letters.labels(source).set(count)
    return registry
