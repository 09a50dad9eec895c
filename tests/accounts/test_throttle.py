"""The login throttle: per address and per username, freed after the window, bounded in memory."""

from __future__ import annotations

from datetime import timedelta

from dothi.accounts.throttle import LoginThrottle
from dothi.core.clock import FixedClock
from tests.accounts.helpers import START


def test_an_address_is_blocked_after_the_limit_and_freed_after_the_window() -> None:
    clock = FixedClock(START)
    throttle = LoginThrottle(clock, limit=3, window=timedelta(minutes=10))
    for _ in range(2):
        throttle.failed("an", "10.0.0.1")
    assert not throttle.blocked("an", "10.0.0.1")
    throttle.failed("an", "10.0.0.1")
    assert throttle.blocked("an", "10.0.0.1")
    assert not throttle.blocked("an", "10.0.0.2")
    assert not throttle.blocked("binh", "10.0.0.1")
    clock.advance(timedelta(minutes=10))
    assert not throttle.blocked("an", "10.0.0.1")


def test_a_success_forgets_the_failures() -> None:
    throttle = LoginThrottle(FixedClock(START), limit=2)
    throttle.failed("binh", "10.0.0.1")
    throttle.succeeded("binh", "10.0.0.1")
    throttle.failed("binh", "10.0.0.1")
    assert not throttle.blocked("binh", "10.0.0.1")


def test_guessing_one_username_from_many_addresses_is_slowed_for_minutes_only() -> None:
    clock = FixedClock(START)
    throttle = LoginThrottle(clock, user_limit=20, user_window=timedelta(minutes=5))
    for number in range(20):
        assert not throttle.blocked("an", f"10.0.1.{number}")
        throttle.failed("an", f"10.0.1.{number}")
    assert throttle.blocked("an", "10.9.9.9")  # a fresh address too
    assert not throttle.blocked("binh", "10.9.9.9")
    clock.advance(timedelta(minutes=5))
    assert not throttle.blocked("an", "10.9.9.9")


def test_expired_keys_are_swept_and_memory_is_capped() -> None:
    clock = FixedClock(START)
    throttle = LoginThrottle(clock, window=timedelta(minutes=15), max_keys=50)
    for number in range(200):
        throttle.failed(f"random{number}", "10.0.0.1")
    assert throttle.tracked() <= 100  # 50 pairs + 50 usernames at most
    clock.advance(timedelta(minutes=16))
    throttle.failed("an", "10.0.0.1")
    assert throttle.tracked() == 2
