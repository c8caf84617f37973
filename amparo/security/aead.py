"""Authenticated encryption of small values and files (AES-256-GCM).

Every ciphertext carries associated data naming *where* it belongs (table, record id, field,
version), so a ciphertext copied onto another record or field fails to decrypt instead of
showing the wrong person's data. Layout of a sealed value: ``b"\\x01" | nonce(12) | ct+tag``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from amparo.errors import IntegrityError

__all__ = ["AESGCM", "KEY_BYTES", "aad_for", "new_key", "open_sealed", "seal"]

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM standard nonce; random nonces are safe far below 2**32 uses of one key
FORMAT_V1 = b"\x01"


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def aad_for(*parts: str | int) -> bytes:
    """Associated data from the coordinates of a value; '|' cannot appear inside parts."""
    texts = [str(p) for p in parts]
    if any("|" in t for t in texts):
        raise ValueError("associated-data parts may not contain '|'")
    return "|".join(texts).encode("utf-8")


def seal(key: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt; ``key`` may be a prepared AESGCM object, which saves the key schedule."""
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + cipher.encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes | AESGCM, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != FORMAT_V1:
        raise IntegrityError("ciphertext is truncated or of an unknown format")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        cipher = key if isinstance(key, AESGCM) else AESGCM(key)
        return cipher.decrypt(nonce, sealed[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise IntegrityError(
            "ciphertext failed authentication (altered, or moved from another record)"
        ) from None
