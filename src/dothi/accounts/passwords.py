"""Argon2id password hashes (argon2-cffi), upgraded on login when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
"""The current parameters (RFC 9106 low-memory profile, argon2-cffi's defaults)."""


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of a check; `new_hash` is set when the stored hash should be replaced."""

    ok: bool
    new_hash: str | None = None


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """A salted Argon2id hash of `password`."""
    return hasher.hash(password)


def check_password(
    stored_hash: str | None, password: str, hasher: PasswordHasher = HASHER
) -> PasswordCheck:
    """Check `password` against `stored_hash`.

    With no stored hash (unknown user) a dummy hash is checked anyway, so that
    the answer takes as long as for a real user and does not reveal who exists.
    """
    try:
        ok = hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if ok and stored_hash is not None and hasher.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=hasher.hash(password))
    return PasswordCheck(ok=ok)


@cache
def _dummy_hash() -> str:
    return HASHER.hash("dothi: no such user")
