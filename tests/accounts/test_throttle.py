"""The login throttle: locked after repeated failures, free again after the window."""

from __future__ import annotations

from datetime import timedelta

from dothi.accounts.throttle import LoginThrottle
from dothi.core.clock import FixedClock
from tests.accounts.helpers import START


def test_a_key_is_blocked_after_the_limit_and_freed_after_the_window() -> None:
    clock = FixedClock(START)
    throttle = LoginThrottle(clock, limit=3, window=timedelta(minutes=10))
    for _ in range(2):
        throttle.failed("an|10.0.0.1")
    assert not throttle.blocked("an|10.0.0.1")
    throttle.failed("an|10.0.0.1")
    assert throttle.blocked("an|10.0.0.1")
    assert not throttle.blocked("an|10.0.0.2")
    clock.advance(timedelta(minutes=10))
    assert not throttle.blocked("an|10.0.0.1")


def test_a_success_forgets_the_failures() -> None:
    throttle = LoginThrottle(FixedClock(START), limit=2)
    throttle.failed("binh|10.0.0.1")
    throttle.succeeded("binh|10.0.0.1")
    throttle.failed("binh|10.0.0.1")
    assert not throttle.blocked("binh|10.0.0.1")
