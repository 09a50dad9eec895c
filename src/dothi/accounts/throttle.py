"""A brake on password guessing: too many recent failures block further attempts for a while.

Two counts, both in memory for one process:
- per username and address: 5 failures in 15 minutes block that address for that user;
- per username, whatever the address: 20 failures in 5 minutes block every address.
  Guessing from many addresses is slowed to 4 a minute, and an outsider who
  fails on purpose locks the real user out for 5 minutes at most after stopping.
Argon2 makes each guess cost, and every failure is in the audit log.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from dothi.core.clock import Clock

MAX_KEYS = 100_000
"""Keys kept per count at most: random usernames cannot grow memory without bound."""


class _Failures:
    """Recent failures per key; expired keys are swept, the oldest dropped beyond `max_keys`."""

    def __init__(self, limit: int, window: timedelta, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._times: dict[str, deque[datetime]] = {}
        self._swept_at: datetime | None = None

    def blocked(self, key: str, now: datetime) -> bool:
        times = self._times.get(key)
        return times is not None and len(times) >= self.limit and now - times[0] < self.window

    def add(self, key: str, now: datetime) -> None:
        # Re-inserted at the end: the dict stays in order of last failure.
        times = self._times.pop(key, None) or deque(maxlen=self.limit)
        times.append(now)
        self._times[key] = times
        if self._swept_at is None or now - self._swept_at >= self.window:
            self._sweep(now)
        while len(self._times) > self._max_keys:
            del self._times[next(iter(self._times))]

    def forget(self, key: str) -> None:
        self._times.pop(key, None)

    def __len__(self) -> int:
        return len(self._times)

    def _sweep(self, now: datetime) -> None:
        """Drop the keys whose last failure left the window."""
        self._swept_at = now
        horizon = now - self.window
        for key in [key for key, times in self._times.items() if times[-1] <= horizon]:
            del self._times[key]


class LoginThrottle:
    """Counts login failures per (username, address) and per username."""

    def __init__(
        self,
        clock: Clock,
        limit: int = 5,
        window: timedelta = timedelta(minutes=15),
        user_limit: int = 20,
        user_window: timedelta = timedelta(minutes=5),
        max_keys: int = MAX_KEYS,
    ) -> None:
        self._clock = clock
        self._pairs = _Failures(limit, window, max_keys)
        self._users = _Failures(user_limit, user_window, max_keys)
        self._lock = threading.Lock()

    def blocked(self, username: str, address: str) -> bool:
        """Whether a login of `username` from `address` must wait."""
        now = self._clock.now()
        with self._lock:
            return self._pairs.blocked(_pair(username, address), now) or self._users.blocked(
                username, now
            )

    def failed(self, username: str, address: str) -> None:
        """Count one failed login."""
        now = self._clock.now()
        with self._lock:
            self._pairs.add(_pair(username, address), now)
            self._users.add(username, now)

    def succeeded(self, username: str, address: str) -> None:
        """Forget the failures of `username` (whoever guessed has nothing more to find)."""
        with self._lock:
            self._pairs.forget(_pair(username, address))
            self._users.forget(username)

    def tracked(self) -> int:
        """How many keys are held in memory (for tests and metrics)."""
        with self._lock:
            return len(self._pairs) + len(self._users)


def _pair(username: str, address: str) -> str:
    return f"{username}|{address}"
