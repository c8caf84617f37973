"""Login back-off: engages after five failures, doubles to a cap, decays, never permanent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amparo.security import throttle

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def fail(n: int, start: datetime = NOW, gap: timedelta = timedelta(0)) -> throttle.ThrottleState:
    state = None
    at = start
    for _ in range(n):
        state = throttle.record_failure(state, at)
        at += gap
    assert state is not None
    return state


def test_schedule() -> None:
    delays = [throttle.delay_after(n).total_seconds() for n in range(1, 13)]
    assert delays == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]
    assert throttle.delay_after(10_000) == throttle.MAX_DELAY


def test_four_failures_cost_nothing_the_fifth_blocks() -> None:
    assert throttle.retry_after(fail(4), NOW) == timedelta(0)
    state = fail(5)
    assert throttle.retry_after(state, NOW) == timedelta(seconds=30)
    assert throttle.retry_after(state, NOW + timedelta(seconds=29)) == timedelta(seconds=1)
    assert throttle.retry_after(state, NOW + timedelta(seconds=30)) == timedelta(0)


def test_never_permanent() -> None:
    state = fail(1000)
    assert throttle.retry_after(state, NOW) == throttle.MAX_DELAY
    assert throttle.retry_after(state, NOW + throttle.MAX_DELAY) == timedelta(0)


def test_decays_after_a_quiet_period() -> None:
    state = fail(12)
    later = NOW + throttle.QUIET_PERIOD
    assert throttle.current(state, later) is None
    assert throttle.record_failure(state, later).failures == 1
    # Short of the quiet period, the count goes on.
    assert throttle.record_failure(state, later - timedelta(seconds=1)).failures == 13


def test_keys_hide_names_and_addresses() -> None:
    key = throttle.user_key(KEY, "carolina")
    assert "carolina" not in key and len(key) == 64
    assert key != throttle.user_key(b"o" * 32, "carolina")  # keyed
    assert key != throttle.address_key(KEY, "carolina")  # separate namespaces
    addr = throttle.address_key(KEY, "203.0.113.7")
    assert "203" not in addr
    assert addr == throttle.address_key(KEY, "::ffff:203.0.113.7")


def test_ipv6_counts_per_64() -> None:
    a = throttle.address_key(KEY, "2001:db8:1:2::1")
    assert a == throttle.address_key(KEY, "2001:db8:1:2:ffff::9")
    assert a != throttle.address_key(KEY, "2001:db8:1:3::1")
