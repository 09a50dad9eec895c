"""A brake on password guessing: too many failures for one key lock it for a while."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from dothi.core.clock import Clock


class LoginThrottle:
    """Counts recent failures per key (username + address) in memory, for one process.

    It slows a guesser down; it is not the only defence (Argon2 makes each guess
    cost, and every failure is in the audit log).
    """

    def __init__(
        self, clock: Clock, limit: int = 5, window: timedelta = timedelta(minutes=15)
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        """Whether `key` has used up its failures within the window."""
        with self._lock:
            return self._recent(key) >= self._limit

    def failed(self, key: str) -> None:
        """Count one failure of `key`."""
        with self._lock:
            self._recent(key)
            self._failures.setdefault(key, deque()).append(self._clock.now())

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key`."""
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> int:
        """How many failures of `key` are inside the window; older ones are forgotten."""
        failures = self._failures.get(key)
        if failures is None:
            return 0
        horizon = self._clock.now() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return len(failures)
