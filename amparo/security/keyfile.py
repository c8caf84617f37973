"""The vault key file: a random master key wrapped under several key slots.

Like LUKS, the master key never changes when a passphrase does; only its slot is rewrapped.
Slots: ``passphrase`` (what people type) and ``recovery`` (a random code printed once at
``init`` and kept offline). The file holds no data and is useless without a secret.

Format (JSON, version 1)::

    {"format": "amparo-keyfile", "version": 1, "vault_id": "<hex>",
     "slots": [{"kind": "passphrase", "kdf": {"t":3,"m":262144,"p":1},
                "salt": "<b64>", "wrapped": "<b64 sealed master key>"}, ...]}
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from amparo.errors import IntegrityError, VaultError, WrongPassphrase
from amparo.security.aead import aad_for, new_key, open_sealed, seal
from amparo.security.kdf import VAULT_FLOOR, KdfParams, derive_key

__all__ = [
    "KeyFile",
    "new_recovery_code",
    "normalise_recovery_code",
    "write_atomically",
]

FORMAT = "amparo-keyfile"
VERSION = 1
SALT_BYTES = 16
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud safely
RECOVERY_GROUPS = 6  # 6 groups x 5 chars x log2(30) bits = about 147 bits


def new_recovery_code() -> str:
    groups = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(RECOVERY_GROUPS)
    ]
    return "-".join(groups)


def normalise_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 5] for i in range(0, len(cleaned), 5))


def _secret_bytes(secret: str) -> bytes:
    # NFC so the same passphrase typed on different keyboards/OSes opens the vault.
    return unicodedata.normalize("NFC", secret).encode("utf-8")


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: temp file, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


MAX_KDF_MEMORY_KIB = 4 * 1024 * 1024  # refuse key files that would ask for more than 4 GiB
MAX_KDF_TIME = 64


def _check_slot(path: Path, slot: _Slot) -> None:
    """Refuse slots whose parameters Argon2 would reject or that would exhaust the machine."""
    kdf = slot.kdf
    if not (1 <= kdf.parallelism <= 16 and 1 <= kdf.time_cost <= MAX_KDF_TIME):
        raise VaultError(f"key file {path}: {slot.kind} slot has impossible Argon2 parameters")
    if not 8 * kdf.parallelism <= kdf.memory_kib <= MAX_KDF_MEMORY_KIB:
        raise VaultError(f"key file {path}: {slot.kind} slot has impossible Argon2 memory size")
    if len(slot.salt) < SALT_BYTES or len(slot.wrapped) < 1 + 12 + 32 + 16:
        raise VaultError(f"key file {path}: {slot.kind} slot is truncated")


@dataclass
class _Slot:
    kind: str
    kdf: KdfParams
    salt: bytes
    wrapped: bytes


class KeyFile:
    """Key slots for one vault. Create with :meth:`create`, read with :meth:`load`."""

    def __init__(self, vault_id: str, slots: list[_Slot]) -> None:
        self.vault_id = vault_id
        self._slots = slots

    # -- creation and persistence -------------------------------------------------------
    @classmethod
    def create(cls, passphrase: str, kdf: KdfParams = VAULT_FLOOR) -> tuple[KeyFile, bytes, str]:
        """A new key file. Returns (key file, master key, recovery code to print once)."""
        master = new_key()
        keyfile = cls(vault_id=secrets.token_hex(16), slots=[])
        recovery = new_recovery_code()
        keyfile._set_slot("passphrase", master, _secret_bytes(passphrase), kdf)
        keyfile._set_slot("recovery", master, _secret_bytes(recovery), kdf)
        return keyfile, master, recovery

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VaultError(f"no key file at {path}: run 'amparo init' first") from None
        return cls.from_bytes(data, path)

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> KeyFile:
        """Parse a key file's bytes (``path`` names it in errors: a backup carries one)."""
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise VaultError(f"key file {path} is not valid JSON: {exc}") from None
        try:
            if raw["format"] != FORMAT or raw["version"] != VERSION:
                raise VaultError(f"key file {path} has an unsupported format or version")
            slots = [
                _Slot(
                    kind=str(s["kind"]),
                    kdf=KdfParams.from_dict(s["kdf"]),
                    salt=base64.b64decode(s["salt"], validate=True),
                    wrapped=base64.b64decode(s["wrapped"], validate=True),
                )
                for s in raw["slots"]
            ]
            for slot in slots:
                _check_slot(path, slot)
            return cls(vault_id=str(raw["vault_id"]), slots=slots)
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultError(f"key file {path} is malformed: {exc!r}") from None

    def dumps(self) -> bytes:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "vault_id": self.vault_id,
            "slots": [
                {
                    "kind": s.kind,
                    "kdf": s.kdf.as_dict(),
                    "salt": base64.b64encode(s.salt).decode(),
                    "wrapped": base64.b64encode(s.wrapped).decode(),
                }
                for s in self._slots
            ],
        }
        return json.dumps(doc, indent=2).encode() + b"\n"

    def save(self, path: Path) -> None:
        write_atomically(path, self.dumps())

    # -- slots --------------------------------------------------------------------------
    @property
    def slot_kinds(self) -> list[str]:
        return [s.kind for s in self._slots]

    def kdf_params(self, kind: str) -> KdfParams:
        return self._slot(kind).kdf

    def _slot(self, kind: str) -> _Slot:
        for slot in self._slots:
            if slot.kind == kind:
                return slot
        raise VaultError(f"key file has no {kind} slot")

    def _aad(self, kind: str) -> bytes:
        return aad_for(FORMAT, VERSION, self.vault_id, kind)

    def _set_slot(self, kind: str, master: bytes, secret: bytes, kdf: KdfParams) -> None:
        salt = os.urandom(SALT_BYTES)
        wrapping_key = derive_key(secret, salt, kdf)
        slot = _Slot(kind, kdf, salt, seal(wrapping_key, master, self._aad(kind)))
        self._slots = [s for s in self._slots if s.kind != kind] + [slot]

    def _open_slot(self, kind: str, secret: bytes) -> bytes:
        slot = self._slot(kind)
        wrapping_key = derive_key(secret, slot.salt, slot.kdf)
        try:
            return open_sealed(wrapping_key, slot.wrapped, self._aad(kind))
        except IntegrityError:
            raise WrongPassphrase(f"the {kind} does not open this vault") from None

    def unlock(self, passphrase: str) -> bytes:
        return self._open_slot("passphrase", _secret_bytes(passphrase))

    def unlock_with_recovery(self, code: str) -> bytes:
        return self._open_slot("recovery", _secret_bytes(normalise_recovery_code(code)))

    def set_passphrase(self, master: bytes, new_passphrase: str) -> None:
        """Rewrap the passphrase slot only; data and other slots are untouched."""
        self._set_slot(
            "passphrase", master, _secret_bytes(new_passphrase), self.kdf_params("passphrase")
        )

    def for_restored_vault(
        self, master: bytes, vault_id: str, passphrase: str
    ) -> tuple[KeyFile, str]:
        """A key file for another vault's master key and id (restoring a whole-registry
        archive), opened by this vault's passphrase at this vault's Argon2 costs. Every slot's
        associated data names the vault id, so all are rewrapped; the recovery code is new
        (the old one wrapped the old key). Returns (key file, recovery code to print once)."""
        restored = KeyFile(vault_id=vault_id, slots=[])
        code = new_recovery_code()
        restored._set_slot("passphrase", master, _secret_bytes(passphrase),
                           self.kdf_params("passphrase"))  # fmt: skip
        restored._set_slot("recovery", master, _secret_bytes(code), self.kdf_params("recovery"))
        return restored, code

    def rotate_recovery(self, master: bytes) -> str:
        code = new_recovery_code()
        self._set_slot("recovery", master, _secret_bytes(code), self.kdf_params("recovery"))
        return code
