"""TOTP with a ±1 step window and replay protection; recovery codes; local QR rendering."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher, Type

from amparo.security import totp

NOW = datetime(2026, 11, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=totp.STEP_SECONDS)


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    monkeypatch.setattr(totp, "RECOVERY_HASHER", cheap)
    yield


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def test_secret_and_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and secret != totp.new_secret()
    uri = totp.provisioning_uri(secret, "ana")
    assert uri.startswith("otpauth://totp/Amparo:ana?")
    assert f"secret={secret}" in uri and "issuer=Amparo" in uri


def test_qr_svg_is_inline_and_local() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "ana"))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "http" not in svg and "<script" not in svg and "<image" not in svg


def test_current_code_accepted_once() -> None:
    secret = totp.new_secret()
    code = code_at(secret, NOW)
    step = totp.verify(secret, code, None, NOW)
    assert step == totp.step_at(NOW)
    assert totp.verify(secret, code, step, NOW) is None  # replay
    assert totp.verify(secret, code, step, NOW + timedelta(seconds=5)) is None


def test_window_is_one_step_either_side() -> None:
    secret = totp.new_secret()
    assert totp.verify(secret, code_at(secret, NOW - STEP), None, NOW) == totp.step_at(NOW) - 1
    assert totp.verify(secret, code_at(secret, NOW + STEP), None, NOW) == totp.step_at(NOW) + 1
    assert totp.verify(secret, code_at(secret, NOW - 2 * STEP), None, NOW) is None
    assert totp.verify(secret, code_at(secret, NOW + 2 * STEP), None, NOW) is None


def test_an_older_step_is_refused_after_a_newer_one() -> None:
    secret = totp.new_secret()
    newer = totp.verify(secret, code_at(secret, NOW), None, NOW)
    assert totp.verify(secret, code_at(secret, NOW - STEP), newer, NOW) is None
    assert totp.verify(secret, code_at(secret, NOW + STEP), newer, NOW + STEP) is not None


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_codes(bad: str) -> None:
    assert totp.verify(totp.new_secret(), bad, None, NOW) is None


def test_spaces_in_a_code_are_ignored() -> None:
    secret = totp.new_secret()
    code = code_at(secret, NOW)
    assert totp.verify(secret, f"{code[:3]} {code[3:]}", None, NOW) is not None


def test_recovery_codes() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert len(code) == 10 and set(code) <= set(totp.RECOVERY_ALPHABET)
    assert not set("01oli") & set(totp.RECOVERY_ALPHABET)
    stored = [(str(i), totp.hash_recovery_code(c)) for i, c in enumerate(codes)]
    assert all(h.startswith("$argon2id$") and codes[0] not in h for _, h in stored)
    assert totp.match_recovery_code(codes[3], stored) == "3"
    spaced = f" {codes[3][:5].upper()}-{codes[3][5:]} "
    assert totp.match_recovery_code(spaced, stored) == "3"
    assert totp.match_recovery_code("2222222222", stored) is None
    assert totp.match_recovery_code("short", stored) is None
