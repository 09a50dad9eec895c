"""The app factory: one FastAPI app per `Settings`, no module-level state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from dothi import __version__
from dothi.accounts.throttle import LoginThrottle
from dothi.alarms.engine import AlarmEngine
from dothi.alarms.feed import FeedWaiter, watching
from dothi.alarms.lifecycle import Policy
from dothi.config import Settings
from dothi.core.clock import Clock, SystemClock
from dothi.core.events import EventBus
from dothi.core.runtime import tune_garbage_collector
from dothi.db.engine import Database
from dothi.telemetry.pipeline import Pipeline
from dothi.web.api import (
    alarm_webhooks,
    alarms,
    audit,
    cameras,
    dashboard,
    incidents,
    places,
    search,
    stream,
    system,
    telemetry,
    users,
)
from dothi.web.auth import KeyCache
from dothi.web.background import (
    fold_rollups_forever,
    tick_alarms_forever,
    tick_incidents_forever,
)
from dothi.web.deps import reject_nul
from dothi.web.errors import ErrorRenderers, install_error_handlers
from dothi.web.metrics import HttpMetrics, MetricsMiddleware
from dothi.web.pages import audit as audit_page
from dothi.web.pages import cameras as cameras_page
from dothi.web.pages import dashboard as dashboard_page
from dothi.web.pages import entity as entity_page
from dothi.web.pages import (
    home,
    login,
    reports_citizen,
    reports_moderation,
    reports_photos,
    reports_public,
    reports_stats,
    reports_workspace,
)
from dothi.web.pages import incidents as incident_pages
from dothi.web.pages import users as users_page
from dothi.web.standards import ngsi_ld, ngsi_ld_temporal, open311
from dothi.web.standards.ngsi_ld_common import render_problem as ngsi_ld_error
from dothi.web.standards.open311_xml import render_error as open311_error
from dothi.web.templating import Templates

STATIC = Path(__file__).parent / "static"
PARALLEL_PASSWORD_CHECKS = 4


def create_app(
    settings: Settings, *, database: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the web app of a deployment; the database is opened here unless given."""
    owns_database = database is None
    db = database or Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(fold_rollups_forever, db)
            tasks.start_soon(tick_alarms_forever, app.state.alarms)
            tasks.start_soon(tick_incidents_forever, db, app.state.clock, app.state.alarms.policy)
            with watching(db, app.state.feed):  # other processes' alarms wake the streams
                yield
            tasks.cancel_scope.cancel()
        if owns_database:
            db.dispose()

    app = FastAPI(
        title="dothi",
        version=__version__,
        summary="Smart-city Intelligent Operations Center API",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(reject_nul)],
    )
    app.state.settings = settings
    app.state.database = db
    app.state.clock = clock or SystemClock()
    app.state.bus = EventBus()
    app.state.pipeline = Pipeline(db, app.state.bus, app.state.clock, settings.timezone)
    app.state.alarms = AlarmEngine(
        db, app.state.bus, app.state.clock, Policy.from_settings(settings), settings.timezone
    )
    app.state.alarms.attach()
    app.state.feed = FeedWaiter()
    app.state.feed.attach(app.state.bus)
    app.state.login_throttle = LoginThrottle(app.state.clock)
    app.state.key_cache = KeyCache()
    app.state.write_gate = anyio.Lock() if db.is_sqlite else None
    # Password checks at once: each Argon2 check takes ~64 MiB and a CPU for ~0.1 s.
    app.state.password_checks = anyio.CapacityLimiter(PARALLEL_PASSWORD_CHECKS)
    app.state.templates = Templates(settings.default_locale, settings.timezone)
    app.state.metrics = HttpMetrics()
    app.state.error_renderers = ErrorRenderers()
    app.state.error_renderers.register("/open311/", open311_error)
    app.state.error_renderers.register("/ngsi-ld/", ngsi_ld_error)
    install_error_handlers(app, app.state.error_renderers)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for api in (
        system,
        places,
        users,
        audit,
        telemetry,
        alarms,
        alarm_webhooks,
        stream,
        dashboard,
        search,
        incidents,
        cameras,
    ):
        app.include_router(api.router)
    app.include_router(open311.router)
    app.include_router(ngsi_ld.router)
    app.include_router(ngsi_ld_temporal.router)
    for page in (
        login,
        home,
        users_page,
        audit_page,
        dashboard_page,
        entity_page,
        cameras_page,
        incident_pages,
    ):
        app.include_router(page.router)
    # The citizen's fixed paths (/reports/new, /reports/photos…) before /reports/{code}.
    for page in (
        reports_citizen,
        reports_photos,
        reports_public,
        reports_workspace,
        reports_stats,
        reports_moderation,
    ):
        app.include_router(page.router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (and `dothi serve --workers N`): settings from env/TOML."""
    app = create_app(Settings())
    tune_garbage_collector()
    return app
