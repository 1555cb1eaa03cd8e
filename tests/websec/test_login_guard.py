"""The login counters over time: a lockout ends after its 15 minutes, slow failures never lock."""

from __future__ import annotations

import datetime as dt

import pytest

from station.models import LoginThrottle
from websec.logins import LoginGuard

T0 = dt.datetime(2026, 12, 1, 9, 0)


@pytest.fixture
def guard(database) -> LoginGuard:  # noqa: ANN001
    return LoginGuard(LoginThrottle)


def test_a_lockout_ends_after_fifteen_minutes(guard):
    for n in range(5):
        locked = guard.failed("agent", "10.0.0.1", now=T0 + dt.timedelta(seconds=n))
    assert "账号已锁定 15 分钟" in locked
    assert guard.refusal("agent", "10.0.0.2", now=T0 + dt.timedelta(minutes=14)) is not None
    assert guard.refusal("agent", "10.0.0.2", now=T0 + dt.timedelta(minutes=15, seconds=5)) is None


def test_failures_spread_wider_than_the_window_never_lock(guard):
    for n in range(12):
        assert guard.failed("agent", "10.0.0.1", now=T0 + dt.timedelta(minutes=4 * n)) is None
    assert guard.refusal("agent", "10.0.0.1", now=T0 + dt.timedelta(minutes=48)) is None


def test_names_are_counted_without_regard_to_case_or_spaces(guard):
    for name in ("Agent", " agent", "AGENT ", "agent", "aGent"):
        guard.failed(name, "10.0.0.1", now=T0)
    assert guard.refusal("agent", "10.0.0.3", now=T0) is not None


def test_prune_forgets_only_what_can_no_longer_lock(guard):
    for _ in range(5):
        guard.failed("agent", "10.0.0.1", now=T0)
    guard.failed("clerk", "10.0.0.1", now=T0)
    assert guard.prune(now=T0 + dt.timedelta(minutes=10)) == 0
    assert guard.prune(now=T0 + dt.timedelta(minutes=16)) == 3  # agent, clerk and the address
    assert LoginThrottle.select().count() == 0
