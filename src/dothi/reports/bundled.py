"""Everything reports need in a fresh deployment: states, the bundled categories and
response templates, routing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dothi.accounts.permissions import SYSTEM
from dothi.core.clock import Clock, local_date
from dothi.reports.catalogue import ensure_states, load_categories
from dothi.reports.responses import load_templates
from dothi.reports.routing import load_routes


def load_bundled(session: Session, clock: Clock, zone: str = "Asia/Ho_Chi_Minh") -> None:
    """States, the bundled categories and templates, and the demo district's routing (its
    units loaded)."""
    ensure_states(session)
    load_categories(session)
    load_templates(session)
    load_routes(session, SYSTEM, local_date(clock.now(), zone))
