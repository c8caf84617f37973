"""The exception tree. Every error Amparo raises on purpose is an ``AmparoError``::

    AmparoError
    ├── ValidationError        bad input; names the field (and row/file when known)
    │   └── ValidationErrors   several field errors found in one record or file
    ├── NotFound               no such record (or not visible to the actor)
    ├── Forbidden              the actor may not do this (see amparo.security.permissions)
    ├── Conflict               stale version, duplicate, or state that forbids the change
    ├── VaultError             vault missing, locked, or its key file unreadable
    │   ├── WrongPassphrase    the passphrase or recovery code does not open any key slot
    │   └── IntegrityError     ciphertext or chain failed authentication: tampered or moved
    ├── KeyShredded            the case key was destroyed; the data is gone for good
    └── StorageError           the database refused (disk full, corrupt, unreachable)

Adapters (CLI, web) map these to exit codes and HTTP statuses; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AmparoError",
    "Conflict",
    "Forbidden",
    "IntegrityError",
    "KeyShredded",
    "NotFound",
    "StorageError",
    "ValidationError",
    "ValidationErrors",
    "VaultError",
    "WrongPassphrase",
]


class AmparoError(Exception):
    """Base of every deliberate Amparo error."""


class ValidationError(AmparoError):
    """Input that cannot be accepted. ``field`` is a dotted path such as ``acts[2].act_type``."""

    def __init__(self, field: str, message: str, *, row: int | None = None) -> None:
        self.field = field
        self.message = message
        self.row = row
        where = f"row {row}: " if row is not None else ""
        super().__init__(f"{where}{field}: {message}")


class ValidationErrors(ValidationError):
    """Several problems with one record; all are reported at once so users fix them in one go."""

    def __init__(self, errors: Sequence[ValidationError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.field, first.message, row=first.row)
        self.args = ("; ".join(str(e) for e in self.errors),)


class NotFound(AmparoError):
    """The record does not exist, or the actor may not know that it exists."""


class Forbidden(AmparoError):
    """The actor is known but the policy does not allow this action on this resource."""


class Conflict(AmparoError):
    """The change contradicts the current state (stale version, already merged, ...)."""


class VaultError(AmparoError):
    """The vault cannot be used: missing, not initialised, or its key file is malformed."""


class WrongPassphrase(VaultError):
    """No key slot opened with the secret given."""


class IntegrityError(VaultError):
    """Authenticated decryption or a hash chain failed: data was altered or moved."""


class KeyShredded(AmparoError):
    """The data key of this case was destroyed on purpose; its records cannot be read."""


class StorageError(AmparoError):
    """The database could not complete the operation; nothing was half-written."""
