"""Second factor: TOTP (RFC 6238) with replay protection, and single-use recovery codes.

Codes are 6 digits over 30-second steps (what every authenticator app expects). A code is
accepted for the current step or one step either side, to allow for clock drift, and only if
its step is later than the last step accepted for the account, so an observed code cannot be
used a second time. The enrolment QR code is rendered here as inline SVG: the secret never
leaves the machine for a chart service.

Recovery codes are 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i), about
49.5 bits each. They are stored as Argon2id hashes at a low cost (8 MiB, t=1): with that much
entropy, stretching is not what protects them, but a plain SHA-256 of a 50-bit secret can be
brute-forced on one GPU in about a day from a stolen database, while even a cheap Argon2id
makes that thousands of GPU-years. Checking ten of them costs well under a second and happens
only when a phone is lost.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

import pyotp
import segno
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "RECOVERY_ALPHABET",
    "RECOVERY_CODE_COUNT",
    "RECOVERY_CODE_LENGTH",
    "RECOVERY_HASHER",
    "STEP_SECONDS",
    "hash_recovery_code",
    "match_recovery_code",
    "new_recovery_codes",
    "new_secret",
    "normalise_recovery_code",
    "provisioning_uri",
    "qr_svg",
    "step_at",
    "verify",
]

STEP_SECONDS = 30  # seconds per TOTP step (RFC 6238 default, what apps assume)
DIGITS = 6  # digits per code
WINDOW = 1  # steps accepted either side of now: +-30 s of clock drift
SECRET_CHARS = 32  # base32 characters: 160 bits, the HMAC-SHA1 block RFC 4226 recommends
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # 31 symbols, no 0/o, 1/l/i
RECOVERY_CODE_LENGTH = 10  # symbols per code: 31**10, about 2**49.5
RECOVERY_CODE_COUNT = 10  # codes per enrolment

RECOVERY_HASHER = PasswordHasher(
    time_cost=1,  # one pass: the codes' entropy, not stretching, is the main defence
    memory_cost=8 * 1024,  # KiB (8 MiB): still memory-hard against GPU guessing
    parallelism=1,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


def new_secret() -> str:
    return pyotp.random_base32(length=SECRET_CHARS)


def provisioning_uri(secret: str, username: str, issuer: str = "Amparo") -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as an inline <svg> element, rendered locally (no network, no image service)."""
    code = segno.make(uri, error="m", micro=False)
    svg: str = code.svg_inline(scale=4, border=4, dark="#000", light="#fff")
    return svg


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def verify(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step ``code`` belongs to if it is valid now and was not used before, else None.

    Store the returned step as the account's last step: codes of that step and earlier are
    refused from then on (replay protection).
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = step_at(now)
    matched: int | None = None
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        # Compare every candidate (no early exit) in constant time.
        if hmac.compare_digest(totp.generate_otp(step), code) and matched is None:
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched


def new_recovery_codes(n: int = RECOVERY_CODE_COUNT) -> list[str]:
    return [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(n)
    ]


def normalise_recovery_code(code: str) -> str:
    """Users may type codes in capitals, with spaces or dashes."""
    return "".join(ch for ch in code.casefold() if ch not in " -\t")


def hash_recovery_code(code: str) -> str:
    return RECOVERY_HASHER.hash(normalise_recovery_code(code))


def match_recovery_code(code: str, hashes: Iterable[tuple[str, str]]) -> str | None:
    """The id of the (id, hash) pair that ``code`` matches, or None."""
    candidate = normalise_recovery_code(code)
    if len(candidate) != RECOVERY_CODE_LENGTH or any(
        ch not in RECOVERY_ALPHABET for ch in candidate
    ):
        return None
    for code_id, code_hash in hashes:
        try:
            if RECOVERY_HASHER.verify(code_hash, candidate):
                return code_id
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
    return None
