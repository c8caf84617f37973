"""Login passwords: Argon2id hashes and the NIST SP 800-63B password rules.

Hashes use Argon2id at 64 MiB, t=3, p=1. Unlike the vault key (256 MiB, derived once per
unlock), a login hash is checked on every sign-in of every user, possibly several at once on a
small server: 64 MiB keeps ten concurrent logins under 1 GiB of memory and one check near a
quarter of a second, while still costing a guesser with a stolen database 64 MiB and three
passes per guess (OWASP's Argon2id recommendation is at least 19 MiB, t=2). When these
parameters rise, ``verify_password`` hands back a new hash to store (rehash at next login).

Rules (SP 800-63B 5.1.1.2): at least 12 characters, at most 256, not a commonly used password
(a bundled list of the 20,000 most frequent leaked passwords), not the username. No
composition rules ("one digit, one symbol"): they make passwords harder to remember, not to
guess. Passwords are NFKC-normalised before hashing so the same password typed on another
keyboard or system still matches.

``HASHER`` is read at call time, so tests substitute cheap parameters with a fixture; the code
path stays the same.
"""

from __future__ import annotations

import contextlib
import functools
import unicodedata
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from amparo.errors import ValidationError

__all__ = [
    "HASHER",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "check_password_policy",
    "dummy_verify",
    "hash_password",
    "is_common",
    "verify_password",
]

LOGIN_MEMORY_KIB = 64 * 1024  # KiB per hash: see the module docstring for why not 256 MiB
LOGIN_TIME_COST = 3  # passes over memory
LOGIN_PARALLELISM = 1  # lanes: one, so a busy server is not starved by one login
MIN_LENGTH = 12  # characters (code points); 800-63B asks for at least 8, we ask for more
MAX_LENGTH = 256  # characters; long enough for any passphrase, short enough to bound work

HASHER = PasswordHasher(
    time_cost=LOGIN_TIME_COST,
    memory_cost=LOGIN_MEMORY_KIB,
    parallelism=LOGIN_PARALLELISM,
    hash_len=32,  # bytes of output
    salt_len=16,  # bytes of random salt per hash
    type=Type.ID,
)

# A fixed password hashed once per parameter set; unknown users are checked against it so a
# login for a name that does not exist costs the same full Argon2 verification as a real one.
_DUMMY_PASSWORD = "amparo-dummy-password-for-unknown-users"  # noqa: S105 (public, by design)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return HASHER.hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> tuple[bool, str | None]:
    """(matches, new hash to store if the stored one uses weaker parameters than HASHER)."""
    hasher = HASHER
    try:
        hasher.verify(password_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(password_hash):
        return True, hasher.hash(_normalise(password))
    return True, None


@functools.lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def dummy_verify(password: str) -> None:
    """Spend one full verification, as for a real user, and always fail."""
    hasher = HASHER
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        hasher.verify(_dummy_hash(hasher), _normalise(password))


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = files("amparo.security").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def is_common(password: str) -> bool:
    return _normalise(password).casefold() in _common_passwords()


def check_password_policy(password: str, username: str | None = None) -> None:
    """Raise ValidationError('password', ...) unless the password may be used."""
    normalised = _normalise(password)
    if len(normalised) < MIN_LENGTH:
        raise ValidationError("password", f"is too short (at least {MIN_LENGTH} characters)")
    if len(normalised) > MAX_LENGTH:
        raise ValidationError("password", f"is too long (at most {MAX_LENGTH} characters)")
    folded = normalised.casefold()
    if folded in _common_passwords():
        raise ValidationError("password", "is too common: it appears in leaked password lists")
    if username:
        name = _normalise(username).casefold()
        if name and name in folded:
            raise ValidationError("password", "must not contain the username")
