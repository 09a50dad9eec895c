"""The one error family of dothi: domain code raises these, the web layer renders them."""

from __future__ import annotations


class DothiError(Exception):
    """An error with a message for the user and an HTTP-like status."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidInput(DothiError):
    """The input is well-formed but not acceptable."""

    status = 422
    code = "invalid"


class NotAuthenticated(DothiError):
    """No valid login, session or API key."""

    status = 401
    code = "not_authenticated"


class Forbidden(DothiError):
    """Logged in, but not allowed: wrong role or outside the user's scope."""

    status = 403
    code = "forbidden"


class NotFound(DothiError):
    """The thing asked for does not exist (or is not visible)."""

    status = 404
    code = "not_found"


class Conflict(DothiError):
    """The change collides with what is stored (duplicate key, stale state)."""

    status = 409
    code = "conflict"
