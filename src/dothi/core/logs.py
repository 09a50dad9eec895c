"""Structured logs: readable lines on a console, JSON lines in production."""

from __future__ import annotations

import logging

import structlog


def configure_logging(json: bool, level: int = logging.INFO) -> None:
    """Set up structlog (and route the standard library's logging through the same level)."""
    logging.basicConfig(level=level, format="%(message)s")
    # Alembic narrates every start-up ("Context impl SQLiteImpl"); the CLI says what matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Locals in tracebacks would print personal data and password hashes.
        else structlog.dev.ConsoleRenderer(
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
