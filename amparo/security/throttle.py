"""Login throttling: exponential back-off per account and per client address, never permanent.

Each key (an account name or a client address) counts failed attempts. The first
``FREE_FAILURES`` cost nothing (typos, a forgotten caps lock); from then on every failure
blocks the key for ``BASE_DELAY`` doubling per further failure, up to ``MAX_DELAY``. A key that
stays quiet for ``QUIET_PERIOD`` starts from zero again. There is no permanent lock-out: an
attacker can slow an account to one guess per ``MAX_DELAY`` but never shut its owner out for
good, and an administrator never has to unlock anyone.

Keys are HMAC-SHA256 under a vault subkey of ``user:<name>`` and ``addr:<address>``, so the
``login_throttle`` table holds neither usernames (not even unknown ones) nor addresses.
This module is pure logic; the account service stores the state.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "BASE_DELAY",
    "FREE_FAILURES",
    "MAX_DELAY",
    "QUIET_PERIOD",
    "ThrottleState",
    "address_key",
    "current",
    "delay_after",
    "record_failure",
    "retry_after",
    "user_key",
]

FREE_FAILURES = 4  # failures allowed without delay; the 5th failure starts the back-off
BASE_DELAY = timedelta(seconds=30)  # block after the 5th failure
MAX_DELAY = timedelta(minutes=15)  # the longest block, reached at the 10th failure
QUIET_PERIOD = timedelta(hours=1)  # no failure for this long: the count starts again
IPV6_PREFIX = 64  # bits; one IPv6 host usually holds a whole /64, so throttle the /64


@dataclass(frozen=True, slots=True)
class ThrottleState:
    failures: int
    last_failure_at: datetime
    blocked_until: datetime | None


def _key(secret: bytes, label: str) -> str:
    return hmac.new(secret, label.encode("utf-8"), hashlib.sha256).hexdigest()


def user_key(secret: bytes, username: str) -> str:
    """The throttle key of an account name (already normalised by the caller)."""
    return _key(secret, f"user:{username}")


def address_key(secret: bytes, address: str) -> str:
    """The throttle key of a client address; IPv6 addresses count per /64 network."""
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        normalised = text.casefold()
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            normalised = str(ip.ipv4_mapped)
        elif isinstance(ip, ipaddress.IPv6Address):
            normalised = str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
        else:
            normalised = str(ip)
    return _key(secret, f"addr:{normalised}")


def delay_after(failures: int) -> timedelta:
    """How long a key is blocked after its n-th consecutive failure."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES - 1, 16)  # 2**16 * 30 s is far past the cap
    return min(BASE_DELAY * (1 << doublings), MAX_DELAY)


def current(state: ThrottleState | None, now: datetime) -> ThrottleState | None:
    """The state as it stands now: None once the key has been quiet for QUIET_PERIOD."""
    if state is None or now - state.last_failure_at >= QUIET_PERIOD:
        return None
    return state


def retry_after(state: ThrottleState | None, now: datetime) -> timedelta:
    """How long until this key may try again (zero when it may try now)."""
    live = current(state, now)
    if live is None or live.blocked_until is None or live.blocked_until <= now:
        return timedelta(0)
    return live.blocked_until - now


def record_failure(state: ThrottleState | None, now: datetime) -> ThrottleState:
    live = current(state, now)
    failures = (live.failures if live is not None else 0) + 1
    delay = delay_after(failures)
    return ThrottleState(
        failures=failures,
        last_failure_at=now,
        blocked_until=now + delay if delay else None,
    )
