"""Login password hashing (Argon2id, rehash when parameters rise) and the 800-63B rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, Type

from amparo.errors import ValidationError
from amparo.security import passwords


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1, type=Type.ID)


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "HASHER", cheap_hasher())
    yield


def test_production_parameters_are_the_documented_ones() -> None:
    # The module's own hasher is replaced in this test module, so read the constants.
    assert passwords.LOGIN_MEMORY_KIB == 64 * 1024
    assert passwords.LOGIN_TIME_COST == 3
    assert passwords.LOGIN_PARALLELISM == 1


def test_hash_and_verify() -> None:
    stored = passwords.hash_password("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long enough passphrase") == (True, None)
    assert passwords.verify_password(stored, "a long enough passphrasE") == (False, None)
    assert passwords.verify_password("not a hash", "anything") == (False, None)


def test_equivalent_unicode_forms_match() -> None:
    stored = passwords.hash_password("contraseña larga y segura")  # composed ñ
    decomposed = "contrasen\u0303a larga y segura"
    assert passwords.verify_password(stored, decomposed)[0]


def test_rehash_when_parameters_rise(monkeypatch: pytest.MonkeyPatch) -> None:
    old = passwords.hash_password("a long enough passphrase")
    monkeypatch.setattr(passwords, "HASHER", cheap_hasher(time_cost=2))
    ok, new = passwords.verify_password(old, "a long enough passphrase")
    assert ok and new is not None
    assert "t=2" in new and "t=1" in old
    assert passwords.verify_password(new, "a long enough passphrase") == (True, None)
    # A wrong password never yields a new hash.
    assert passwords.verify_password(old, "wrong passphrase here") == (False, None)


def test_dummy_verify_runs_one_full_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append("verify")
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "HASHER", Counting(time_cost=1, memory_cost=8, parallelism=1))
    passwords.dummy_verify("whatever was typed")
    assert calls == ["verify"]


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("short", "ana", "too short"),
        ("elevenchars", "ana", "too short"),
        ("x" * 257, "ana", "too long"),
        ("123qweasdzxc", "ana", "too common"),
        ("1QAZ2WSX3EDC", "ana", "too common"),  # the list check ignores case
        ("my name is carolina and this is long", "Carolina", "username"),
        ("carolina", "carolina", "too short"),
    ],
)
def test_policy_rejects(password: str, username: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        passwords.check_password_policy(password, username)
    assert err.value.field == "password"
    assert fragment in err.value.message


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "twelve chars",  # exactly 12, no digits, no symbols: no composition rules
        "x" * 256,
        "søren kierkegaard walks",
    ],
)
def test_policy_accepts(password: str) -> None:
    passwords.check_password_policy(password, "ana")


def test_common_list_is_bundled() -> None:
    common = passwords._common_passwords()
    assert len(common) == 20_000
    assert "password" in common and "123456" in common
    assert passwords.is_common("PassWord")
    assert not passwords.is_common("correct horse battery staple")
