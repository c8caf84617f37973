"""Accounts: passwords, mandatory TOTP enrolment, recovery codes, throttling, API tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type

from amparo.clock import Clock
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.registry import Registry
from amparo.security import passwords, throttle, totp
from amparo.services.accounts import GENERIC_FAILURE, LoginStep, User
from amparo.store import schema
from tests.conftest import NOW

PASSWORD = "a perfectly good passphrase"
ADDR = "198.51.100.4"


class MovableClock(Clock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


class CountingHasher(PasswordHasher):
    calls = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.calls += 1
        return super().verify(hash, password)


def cheap(time_cost: int = 1) -> CountingHasher:
    return CountingHasher(time_cost=time_cost, memory_cost=8, parallelism=1, type=Type.ID)


@pytest.fixture(autouse=True)
def cheap_hashers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "HASHER", cheap())
    monkeypatch.setattr(totp, "RECOVERY_HASHER", cheap())
    CountingHasher.calls = 0
    yield


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(NOW)


def add(registry: Registry, name: str = "carolina", role: str = "documenter") -> User:
    return registry.accounts.add_user(name, PASSWORD, role)


def enrol(registry: Registry, user: User) -> tuple[str, list[str]]:
    """Enrol a second factor at the current time; returns (secret, recovery codes)."""
    secret, uri, svg = registry.accounts.begin_totp_enrolment(user.id)
    assert secret in uri and svg.startswith("<svg")
    codes = registry.accounts.confirm_totp_enrolment(user.id, code_now(registry, secret))
    return secret, codes


def code_now(registry: Registry, secret: str, offset_steps: int = 0) -> str:
    when = registry.clock.now() + timedelta(seconds=30 * offset_steps)
    return pyotp.TOTP(secret).at(when)


def dump(registry: Registry, table: sa.Table) -> bytes:
    """Every value of every row, as bytes, to look for secrets that must not be there."""
    with registry.store.read() as conn:
        rows = conn.execute(sa.select(table)).all()
    return b"|".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for row in rows
        for v in row
    )


# -- users ---------------------------------------------------------------------------------


def test_add_user_normalises_the_name(registry: Registry) -> None:
    user = registry.accounts.add_user(" Mari\u0301a ", PASSWORD, "analyst", display_name="M. R.")
    assert user.username == "maría" and user.role == "analyst"
    assert registry.accounts.get_by_username("MARÍA").id == user.id
    assert user.display_name == "M. R." and not user.mfa_enrolled and not user.disabled
    with pytest.raises(Conflict):
        registry.accounts.add_user("MARÍA", PASSWORD, "viewer")
    assert b"M. R." not in dump(registry, schema.users)
    with registry.store.read() as conn:
        stored = conn.execute(sa.select(schema.users.c.password_hash)).scalar_one()
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)


@pytest.mark.parametrize(
    ("name", "password", "role", "field"),
    [
        ("carolina", PASSWORD, "superuser", "role"),
        ("carolina", "short", "viewer", "password"),
        ("carolina", "password1234", "viewer", "password"),
        ("carolina", "carolina is my name", "viewer", "password"),
        ("two words", PASSWORD, "viewer", "username"),
        ("x", PASSWORD, "viewer", "username"),
    ],
)
def test_add_user_rejects(
    registry: Registry, name: str, password: str, role: str, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        registry.accounts.add_user(name, password, role)
    assert err.value.field == field
    assert registry.accounts.list_users() == []


def test_list_disable_enable(registry: Registry) -> None:
    a, b = add(registry, "bea"), add(registry, "ana", "admin")
    assert [u.username for u in registry.accounts.list_users()] == ["ana", "bea"]
    disabled = registry.accounts.disable(a.id)
    assert disabled.disabled and disabled.session_epoch == a.session_epoch + 1
    assert not registry.accounts.enable(a.id).disabled
    assert not registry.accounts.get(b.id).disabled
    with pytest.raises(NotFound):
        registry.accounts.disable("0" * 32)


def test_change_password(registry: Registry) -> None:
    user = add(registry)
    with pytest.raises(ValidationError) as err:
        registry.accounts.change_password(user.id, "not the password", "another good passphrase")
    assert err.value.field == "old_password"
    with pytest.raises(ValidationError) as err:
        registry.accounts.change_password(user.id, PASSWORD, "qwertyuiop123")
    assert err.value.field == "password"
    registry.accounts.change_password(user.id, PASSWORD, "another good passphrase")
    assert registry.accounts.get(user.id).session_epoch == user.session_epoch + 1
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).status == "failed"
    assert registry.accounts.authenticate("carolina", "another good passphrase", ADDR).ok


# -- enrolment and second factor -----------------------------------------------------------


def test_enrolment_is_mandatory(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    step = registry.accounts.authenticate("Carolina", PASSWORD, ADDR)
    assert step.status == "needs_enrolment" and step.user_id == user.id
    # No second factor yet: nothing completes the login but enrolment.
    assert registry.accounts.verify_second_factor(user.id, "123456", ADDR).status == "failed"
    secret, _, _ = registry.accounts.begin_totp_enrolment(user.id)
    with pytest.raises(ValidationError) as err:
        registry.accounts.confirm_totp_enrolment(user.id, "000000" if code_now(
            registry, secret) != "000000" else "111111")  # fmt: skip
    assert err.value.field == "code"
    # Not confirmed: still not usable as a second factor.
    assert (
        registry.accounts.verify_second_factor(user.id, code_now(registry, secret), ADDR).status
        == "failed"
    )
    codes = registry.accounts.confirm_totp_enrolment(user.id, code_now(registry, secret, 1))
    assert len(codes) == 10
    assert registry.accounts.get(user.id).mfa_enrolled
    # Once enrolled, the password alone cannot replace the second factor.
    with pytest.raises(Conflict):
        registry.accounts.begin_totp_enrolment(user.id)
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).status == (
        "needs_second_factor"
    )
    # The secret is sealed: neither it nor the codes appear in the database.
    assert secret.encode() not in dump(registry, schema.users)
    stored = dump(registry, schema.recovery_codes)
    assert all(c.encode() not in stored for c in codes)


def test_totp_code_accepted_once(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    secret, _ = enrol(registry, user)
    clock.advance(seconds=30)
    code = code_now(registry, secret)
    ok = registry.accounts.verify_second_factor(user.id, code, ADDR)
    assert ok.status == "authenticated" and ok.user_id == user.id
    assert ok.session_epoch == user.session_epoch
    again = registry.accounts.verify_second_factor(user.id, code, ADDR)
    assert again == LoginStep("failed", "invalid code")
    clock.advance(seconds=30)
    assert registry.accounts.verify_second_factor(user.id, code_now(registry, secret), ADDR).ok


def test_the_enrolment_code_cannot_be_replayed(registry: Registry) -> None:
    user = add(registry)
    secret, _ = enrol(registry, user)
    step = registry.accounts.verify_second_factor(user.id, code_now(registry, secret), ADDR)
    assert step.status == "failed"


def test_code_from_two_steps_ago_is_refused(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    secret, _ = enrol(registry, user)
    clock.advance(minutes=5)
    old = code_now(registry, secret, -2)
    assert registry.accounts.verify_second_factor(user.id, old, ADDR).status == "failed"
    previous = code_now(registry, secret, -1)
    assert registry.accounts.verify_second_factor(user.id, previous, ADDR).ok


def test_recovery_codes_are_single_use(registry: Registry) -> None:
    user = add(registry)
    _, codes = enrol(registry, user)
    assert registry.accounts.recovery_codes_left(user.id) == 10
    first = registry.accounts.verify_second_factor(user.id, codes[0].upper(), ADDR)
    assert first.status == "authenticated"
    assert registry.accounts.verify_second_factor(user.id, codes[0], ADDR).status == "failed"
    assert registry.accounts.recovery_codes_left(user.id) == 9
    assert registry.accounts.verify_second_factor(user.id, codes[1], ADDR).ok
    assert registry.accounts.verify_second_factor(user.id, "zzzzzzzzzz", ADDR).status == "failed"


def test_reset_mfa_forces_re_enrolment(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    secret, codes = enrol(registry, user)
    reset = registry.accounts.reset_mfa(user.id)
    assert not reset.mfa_enrolled and reset.session_epoch == user.session_epoch + 1
    assert registry.accounts.recovery_codes_left(user.id) == 0
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).status == "needs_enrolment"
    clock.advance(seconds=60)
    for old in (code_now(registry, secret), codes[0]):
        assert registry.accounts.verify_second_factor(user.id, old, ADDR).status == "failed"
    new_secret, new_codes = enrol(registry, user)
    assert new_secret != secret and not set(new_codes) & set(codes)


# -- no enumeration ------------------------------------------------------------------------


def test_unknown_wrong_and_disabled_look_the_same(registry: Registry) -> None:
    user = add(registry)
    results = []
    for username, password in [("nobody", PASSWORD), ("carolina", "wrong passphrase!!")]:
        before = CountingHasher.calls
        results.append(registry.accounts.authenticate(username, password, ADDR))
        assert CountingHasher.calls - before == 1  # one full Argon2 verification each
    registry.accounts.disable(user.id)
    before = CountingHasher.calls
    results.append(registry.accounts.authenticate("carolina", PASSWORD, ADDR))
    assert CountingHasher.calls - before == 1
    assert results == [LoginStep("failed", GENERIC_FAILURE)] * 3
    assert results[0].message == "invalid username or password"
    registry.accounts.enable(user.id)
    assert registry.accounts.authenticate("carolina", PASSWORD, "192.0.2.1").ok


def test_login_rehashes_when_parameters_rise(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = add(registry)
    monkeypatch.setattr(passwords, "HASHER", cheap(time_cost=2))
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok
    with registry.store.read() as conn:
        stored = str(
            conn.execute(
                sa.select(schema.users.c.password_hash).where(schema.users.c.id == user.id)
            ).scalar_one()
        )
    assert "t=2" in stored
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok


# -- throttling ----------------------------------------------------------------------------


def test_throttle_per_account(registry: Registry, clock: MovableClock) -> None:
    add(registry)
    for i in range(5):
        bad = registry.accounts.authenticate("carolina", "wrong passphrase!!", f"192.0.2.{i}")
        assert bad.status == "failed"
    # Even the right password from a fresh address waits now; the answer names no account.
    blocked = registry.accounts.authenticate("carolina", PASSWORD, "192.0.2.99")
    assert blocked == LoginStep(
        "throttled", "too many attempts, try again in 30 s", retry_after_s=30
    )
    for i in range(5):
        registry.accounts.authenticate("nobody", PASSWORD, f"192.0.2.{i}")
    assert registry.accounts.authenticate("nobody", PASSWORD, "192.0.2.99") == blocked
    clock.advance(seconds=30)
    assert registry.accounts.authenticate("carolina", PASSWORD, "192.0.2.99").ok


def test_throttle_per_address(registry: Registry, clock: MovableClock) -> None:
    add(registry)
    for i in range(5):
        registry.accounts.authenticate(f"guess{i}", PASSWORD, ADDR)
    step = registry.accounts.authenticate("carolina", PASSWORD, ADDR)
    assert step.status == "throttled" and step.message.startswith("too many attempts")
    assert registry.accounts.authenticate("carolina", PASSWORD, "192.0.2.7").ok
    clock.advance(seconds=31)
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok


def test_throttle_is_never_permanent(registry: Registry, clock: MovableClock) -> None:
    add(registry)
    longest = 0
    for _ in range(20):
        step = registry.accounts.authenticate("carolina", "wrong passphrase!!", ADDR)
        if step.status == "throttled":
            assert step.retry_after_s is not None
            longest = max(longest, step.retry_after_s)
            clock.advance(seconds=step.retry_after_s)
    assert longest == 15 * 60
    clock.advance(minutes=15)
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok
    # A quiet hour forgets the failures: the next mistake costs nothing.
    clock.advance(hours=1)
    registry.accounts.authenticate("carolina", "wrong passphrase!!", ADDR)
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok


def test_second_factor_guesses_are_throttled(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    secret, _ = enrol(registry, user)
    clock.advance(seconds=60)
    good = code_now(registry, secret)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        # Knowing the password does not reset the account's count.
        assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).ok
        assert registry.accounts.verify_second_factor(user.id, wrong, ADDR).status == "failed"
    assert registry.accounts.verify_second_factor(user.id, good, ADDR).status == "throttled"
    assert registry.accounts.authenticate("carolina", PASSWORD, ADDR).status == "throttled"
    clock.advance(seconds=30)
    assert registry.accounts.verify_second_factor(user.id, good, ADDR).ok


def test_throttle_table_holds_no_names_or_addresses(registry: Registry) -> None:
    add(registry)
    registry.accounts.authenticate("carolina", "wrong passphrase!!", ADDR)
    registry.accounts.authenticate("nobody", "wrong passphrase!!", ADDR)
    stored = dump(registry, schema.login_throttle)
    for value in (b"carolina", b"nobody", ADDR.encode(), b"198.51"):
        assert value not in stored
    key = throttle.user_key(registry.keyring.subkey("throttle"), "carolina")
    assert key.encode() in stored


# -- API tokens ----------------------------------------------------------------------------


def test_token_lifecycle(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    token_id, secret = registry.accounts.create_token(user.id, "nightly export", "read", 30)
    assert secret.startswith("amp_") and len(secret) >= 4 + 43
    principal = registry.accounts.authenticate_token(secret)
    assert principal is not None
    assert (principal.token_id, principal.user_id, principal.scope) == (token_id, user.id, "read")
    assert principal.role == "documenter" and principal.username == "carolina"
    stored = dump(registry, schema.api_tokens)
    assert secret.encode() not in stored and secret[4:].encode() not in stored
    assert hashlib.sha256(secret.encode()).digest() in stored
    [info] = registry.accounts.list_tokens(user.id)
    assert info.status == "active" and info.last_used_at == NOW
    assert "amp_" not in str(info.to_dict())
    assert registry.accounts.authenticate_token(secret + "x") is None
    assert registry.accounts.authenticate_token("amp_" + "A" * 43) is None
    assert registry.accounts.authenticate_token("not a token") is None
    registry.accounts.revoke_token(token_id)
    assert registry.accounts.authenticate_token(secret) is None
    assert registry.accounts.list_tokens()[0].status == "revoked"
    with pytest.raises(NotFound):
        registry.accounts.revoke_token("f" * 32)


def test_token_expiry(registry: Registry, clock: MovableClock) -> None:
    user = add(registry)
    _, secret = registry.accounts.create_token(user.id, "ci", "write", 1)
    clock.advance(hours=23)
    assert registry.accounts.authenticate_token(secret) is not None
    clock.advance(hours=1)
    assert registry.accounts.authenticate_token(secret) is None
    assert registry.accounts.list_tokens()[0].status == "expired"


def test_tokens_of_disabled_users_stop_working(registry: Registry) -> None:
    user = add(registry)
    _, secret = registry.accounts.create_token(user.id, "ci", "read", 30)
    registry.accounts.disable(user.id)
    assert registry.accounts.authenticate_token(secret) is None
    with pytest.raises(Conflict):
        registry.accounts.create_token(user.id, "another", "read", 30)
    registry.accounts.enable(user.id)
    assert registry.accounts.authenticate_token(secret) is not None


@pytest.mark.parametrize(
    ("scope", "days", "name", "field"),
    [
        ("delete", 30, "x", "scope"),
        ("admin", 30, "x", "scope"),  # a documenter cannot hold an admin token
        ("read", 0, "x", "days"),
        ("read", 366, "x", "days"),
        ("read", 30, " ", "name"),
    ],
)
def test_token_validation(registry: Registry, scope: str, days: int, name: str, field: str) -> None:
    user = add(registry)
    with pytest.raises(ValidationError) as err:
        registry.accounts.create_token(user.id, name, scope, days)
    assert err.value.field == field


def test_admin_token_for_admin(registry: Registry) -> None:
    admin = add(registry, "root", "admin")
    _, secret = registry.accounts.create_token(admin.id, "ops", "admin", 7)
    principal = registry.accounts.authenticate_token(secret)
    assert principal is not None and principal.scope == "admin"


# -- audit and permissions -----------------------------------------------------------------


def test_each_admin_operation_leaves_one_entry_without_secrets(registry: Registry) -> None:
    from amparo.security.permissions import Actor

    user = registry.accounts.add_user("Zqxname", PASSWORD, "documenter", display_name="Zqxshown")
    registry.accounts.list_users()
    registry.accounts.disable(user.id)
    registry.accounts.enable(user.id)
    enrol(registry, user)
    registry.accounts.reset_mfa(user.id)
    token_id, secret = registry.accounts.create_token(user.id, "Zqxtokenname", "write", 7)
    registry.accounts.revoke_token(token_id)
    registry.accounts.revoke_token(token_id)  # a second revoke changes nothing, but is logged
    # Changing one's own password needs no admin permission, and is audited as oneself.
    own = registry.acting_as(Actor(user_id=user.id, role="documenter", mfa_complete=True),
                             f"user:{user.id}")  # fmt: skip
    own.accounts.change_password(user.id, PASSWORD, "another good passphrase")
    entries = registry.audit.entries()
    assert [(e.action, e.object_type, e.object_id, e.detail) for e in entries] == [
        ("user.create", "user", user.id, "role=documenter"),
        ("user.list", None, None, "count=1"),
        ("user.disable", "user", user.id, ""),
        ("user.enable", "user", user.id, ""),
        ("user.reset_mfa", "user", user.id, ""),
        ("token.create", "token", token_id, f"user={user.id} scope=write days=7"),
        ("token.revoke", "token", token_id, f"user={user.id} already_revoked=False"),
        ("token.revoke", "token", token_id, f"user={user.id} already_revoked=True"),
        ("user.change_password", "user", user.id, ""),
    ]
    assert entries[-1].actor == f"user:{user.id}" and entries[0].actor == "tester"
    text = dump(registry, schema.audit_log).lower()
    for value in ("zqx", PASSWORD, "another good passphrase", secret, secret[4:]):
        assert value.lower().encode() not in text, value
    assert registry.audit.verify().ok


def test_failed_admin_operations_leave_no_entry(registry: Registry) -> None:
    from amparo.errors import Forbidden
    from amparo.security.permissions import Actor

    user = add(registry)
    before = len(registry.audit.entries())
    with pytest.raises(ValidationError):
        registry.accounts.add_user("x", PASSWORD, "viewer")
    with pytest.raises(NotFound):
        registry.accounts.reset_mfa("0" * 32)
    with pytest.raises(NotFound):
        registry.accounts.revoke_token("0" * 32)
    with pytest.raises(ValidationError):
        registry.accounts.change_password(user.id, "not the password", "another good one!")
    viewer = registry.acting_as(Actor(user_id=user.id, role="viewer", mfa_complete=True), "v")
    with pytest.raises(Forbidden):
        viewer.accounts.disable(user.id)
    assert len(registry.audit.entries()) == before


def test_parallel_guesses_are_all_counted(registry: Registry) -> None:
    """Concurrent failures for one account neither collide nor lose counts."""
    import threading

    add(registry)
    errors: list[BaseException] = []

    def guess(n: int) -> None:
        try:
            registry.accounts.authenticate("carolina", f"wrong guess {n}!!", f"198.51.100.{n}")
        except BaseException as exc:  # collected: a thread's error must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    lt = schema.login_throttle
    with registry.store.read() as conn:
        counts = sorted(r[0] for r in conn.execute(sa.select(lt.c.failures)))
    # One row per address (1 failure each) and the account's row with all four.
    assert counts == [1, 1, 1, 1, 4]
