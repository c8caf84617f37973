"""Intake keys: sealing what strangers send us, to a key the web server cannot misuse alone.

An intake key pair is X25519 (libsodium's sealed box: an ephemeral sender key, X25519 and
XSalsa20-Poly1305), separate from the vault's master key, so the public half can be handed
to anyone (printed on a leaflet, built into a partner's laptop) and a submission sealed to it
can be opened only with the private half. The private half is kept only wrapped (AES-256-GCM)
under a key derived from the vault's master key, with associated data naming the intake key's
id: a wrapped key copied onto another row fails to open.

Public keys travel as text: ``amparo-intake:`` and the 32 bytes in URL-safe base64, so a key
copied by hand with a missing character fails to parse instead of sealing to nobody. A
fingerprint (the first 16 hex digits of the SHA-256 of the key) lets two people compare a key
over the phone.

Field devices sign their bundles with Ed25519 (``amparo-device:`` keys, same text form); the
seed stays in the partner's own configuration directory.

PyNaCl is imported inside the functions (nothing heavy at import time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from amparo.errors import IntegrityError, ValidationError
from amparo.security.aead import aad_for, open_sealed, seal

__all__ = [
    "DEVICE_PREFIX",
    "KEK_PURPOSE",
    "KEY_BYTES",
    "PUBLIC_PREFIX",
    "SEAL_OVERHEAD",
    "SIGNATURE_BYTES",
    "IntakeKeyPair",
    "fingerprint",
    "format_key",
    "generate",
    "new_device_seed",
    "open_box",
    "parse_key",
    "seal_to",
    "sign",
    "unwrap_private",
    "verify",
    "verify_key_of",
    "wrap_private",
]

KEY_BYTES = 32  # X25519 and Ed25519 public keys, private keys and seeds alike
SEAL_OVERHEAD = 48  # a sealed box adds the 32-byte ephemeral key and a 16-byte tag
SIGNATURE_BYTES = 64  # Ed25519
PUBLIC_PREFIX = "amparo-intake:"
DEVICE_PREFIX = "amparo-device:"
KEK_PURPOSE = "intake-kek"  # the keyring subkey that wraps intake private keys


@dataclass(frozen=True, slots=True)
class IntakeKeyPair:
    public: bytes
    private: bytes


def generate() -> IntakeKeyPair:
    from nacl.public import PrivateKey

    private = PrivateKey.generate()
    return IntakeKeyPair(public=bytes(private.public_key), private=bytes(private))


def format_key(key: bytes, prefix: str = PUBLIC_PREFIX) -> str:
    return prefix + base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def parse_key(text: str, prefix: str = PUBLIC_PREFIX) -> bytes:
    """The 32 bytes of a key in its text form; ValidationError naming what is wrong."""
    value = text.strip()
    if not value.startswith(prefix):
        raise ValidationError("key", f"must start with '{prefix}'")
    body = value[len(prefix) :]
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("key", "is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValidationError("key", f"must hold {KEY_BYTES} bytes, not {len(key)}")
    return key


def fingerprint(key: bytes) -> str:
    digest = hashlib.sha256(key).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def wrap_private(kek: bytes, key_id: str, private: bytes) -> bytes:
    return seal(kek, private, aad_for("intake-key", key_id))


def unwrap_private(kek: bytes, key_id: str, wrapped: bytes) -> bytes:
    return open_sealed(kek, wrapped, aad_for("intake-key", key_id))


def seal_to(public: bytes, plaintext: bytes) -> bytes:
    """Seal for the holder of the private half; the sender keeps nothing that opens it."""
    from nacl.public import PublicKey, SealedBox

    return bytes(SealedBox(PublicKey(public)).encrypt(plaintext))


def open_box(private: bytes, sealed: bytes) -> bytes:
    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey, SealedBox

    if len(sealed) < SEAL_OVERHEAD:
        raise IntegrityError("the sealed submission is truncated")
    try:
        return bytes(SealedBox(PrivateKey(private)).decrypt(sealed))
    except CryptoError:
        raise IntegrityError(
            "the sealed submission failed authentication (altered, or sealed to another key)"
        ) from None


# -- field devices (Ed25519) ---------------------------------------------------------------
def new_device_seed() -> bytes:
    import os

    return os.urandom(KEY_BYTES)


def verify_key_of(seed: bytes) -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(seed).verify_key)


def sign(seed: bytes, message: bytes) -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(seed).sign(message).signature)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    if len(public) != KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        VerifyKey(public).verify(message, signature)
    except (BadSignatureError, ValueError):
        return False
    return True
