"""Identifiers of public things: UUIDs and NGSI-LD URNs, never sequential numbers."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> uuid.UUID:
    """A random UUID for a new row."""
    return uuid.uuid4()


def random_secret(nbytes: int = 24) -> str:
    """A URL-safe random secret (passwords, API keys)."""
    return secrets.token_urlsafe(nbytes)
