"""AEAD sealing: round trip, and every kind of damage is an IntegrityError, never data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amparo.errors import IntegrityError
from amparo.security.aead import NONCE_BYTES, aad_for, new_key, open_sealed, seal

KEY = bytes(range(32))
AAD = aad_for("incidents", "abc123", "title", 1)
PLAINTEXT = "Amenaza de muerte a Berta Cáceres".encode()
SEALED = seal(KEY, PLAINTEXT, AAD)


def test_round_trip() -> None:
    assert open_sealed(KEY, SEALED, AAD) == PLAINTEXT


@given(st.binary(max_size=2048))
@settings(max_examples=50, deadline=None)
def test_round_trip_any_bytes(data: bytes) -> None:
    key = new_key()
    assert open_sealed(key, seal(key, data, AAD), AAD) == data


def test_layout_is_format_byte_nonce_and_tag() -> None:
    assert SEALED[:1] == b"\x01"
    assert len(SEALED) == 1 + NONCE_BYTES + len(PLAINTEXT) + 16
    assert PLAINTEXT not in SEALED


def test_empty_plaintext_round_trips() -> None:
    assert open_sealed(KEY, seal(KEY, b"", AAD), AAD) == b""


@pytest.mark.parametrize(
    "other_aad",
    [
        aad_for("incidents", "abc123", "title", 2),  # other version
        aad_for("incidents", "abc124", "title", 1),  # other record
        aad_for("incidents", "abc123", "narrative", 1),  # other field
        aad_for("defenders", "abc123", "title", 1),  # other table
        b"",
    ],
)
def test_wrong_aad_fails(other_aad: bytes) -> None:
    with pytest.raises(IntegrityError):
        open_sealed(KEY, SEALED, other_aad)


def test_wrong_key_fails() -> None:
    with pytest.raises(IntegrityError):
        open_sealed(new_key(), SEALED, AAD)


@given(position=st.integers(min_value=0, max_value=len(SEALED) - 1), bit=st.integers(0, 7))
@settings(max_examples=200, deadline=None)
def test_flipped_bit_anywhere_fails(position: int, bit: int) -> None:
    damaged = bytearray(SEALED)
    damaged[position] ^= 1 << bit
    with pytest.raises(IntegrityError):
        open_sealed(KEY, bytes(damaged), AAD)


@given(length=st.integers(min_value=0, max_value=len(SEALED) - 1))
@settings(max_examples=100, deadline=None)
def test_truncated_fails(length: int) -> None:
    with pytest.raises(IntegrityError):
        open_sealed(KEY, SEALED[:length], AAD)


def test_extended_fails() -> None:
    with pytest.raises(IntegrityError):
        open_sealed(KEY, SEALED + b"\x00", AAD)


@pytest.mark.parametrize("fmt", [b"\x00", b"\x02", b"\xff"])
def test_unknown_format_byte_fails(fmt: bytes) -> None:
    with pytest.raises(IntegrityError, match="unknown format"):
        open_sealed(KEY, fmt + SEALED[1:], AAD)


def test_nonces_differ_between_seals_of_the_same_value() -> None:
    sealed = [seal(KEY, PLAINTEXT, AAD) for _ in range(20)]
    nonces = {s[1 : 1 + NONCE_BYTES] for s in sealed}
    assert len(nonces) == len(sealed)
    assert len(set(sealed)) == len(sealed)
    assert all(open_sealed(KEY, s, AAD) == PLAINTEXT for s in sealed)


def test_aad_names_every_coordinate() -> None:
    assert aad_for("incidents", "x", "title", 1) == b"incidents|x|title|1"
