"""Creating, unlocking and re-keying a vault directory.

``init_vault`` writes the key file and settings, migrates the database and records the
vault id in it, so a key file paired with the wrong database is refused at unlock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from amparo.errors import VaultError, WrongPassphrase
from amparo.security.kdf import VAULT_FLOOR, KdfParams
from amparo.security.keyfile import KeyFile
from amparo.security.keyring import Keyring
from amparo.settings import Settings
from amparo.store import schema
from amparo.store.engine import Store

__all__ = [
    "InitResult",
    "change_passphrase",
    "init_vault",
    "recover_vault",
    "unlock_keyring",
]


@dataclass(frozen=True)
class InitResult:
    settings: Settings
    recovery_code: str


def init_vault(
    vault_dir: Path,
    passphrase: str,
    *,
    database_url: str | None = None,
    kdf: KdfParams = VAULT_FLOOR,
    language: str = "en",
) -> InitResult:
    if len(passphrase) < 8:
        raise VaultError("the passphrase must have at least 8 characters")
    vault_dir.mkdir(parents=True, exist_ok=True)
    vault_dir.chmod(0o700)
    settings = Settings(
        vault_dir=vault_dir,
        database_url=database_url or Settings.default_database_url(vault_dir),
        language=language,
    )
    if settings.key_file.exists():
        raise VaultError(f"{vault_dir} already holds a vault (found {settings.key_file.name})")
    keyfile, _master, recovery = KeyFile.create(passphrase, kdf)
    store = Store(settings.database_url)
    try:
        store.migrate()
        with store.write() as conn:
            existing = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "vault_id")
            ).scalar()
            if existing:
                raise VaultError("that database already belongs to another vault")
            conn.execute(sa.insert(schema.meta), [{"key": "vault_id", "value": keyfile.vault_id}])
    finally:
        store.close()
    settings.files_dir.mkdir(mode=0o700, exist_ok=True)
    settings.save()
    keyfile.save(settings.key_file)
    return InitResult(settings=settings, recovery_code=recovery)


UNLOCK_FAILURES = "unlock-failures.log"  # one line per failed unlock: UTC time and slot kind


def unlock_keyring(settings: Settings, passphrase: str) -> Keyring:
    keyfile = KeyFile.load(settings.key_file)
    try:
        return Keyring(keyfile.unlock(passphrase), keyfile.vault_id)
    except WrongPassphrase:
        note_unlock_failure(settings.vault_dir, "passphrase")
        raise


def note_unlock_failure(vault_dir: Path, kind: str) -> None:
    """Record a failed unlock where it can be written without the key: a plain file of
    times, no secrets. The next successful open moves it into the audit log (see
    Registry.open), so guessing leaves a trace that is then tamper-evident."""
    line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {kind}\n"
    with open(vault_dir / UNLOCK_FAILURES, "a", encoding="ascii") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def pending_unlock_failures(vault_dir: Path) -> list[tuple[str, str]]:
    """(time, kind) of failed unlocks not yet moved into the audit log."""
    path = vault_dir / UNLOCK_FAILURES
    if not path.exists():
        return []
    out = []
    for line in path.read_text("ascii", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("passphrase", "recovery"):
            out.append((parts[0], parts[1]))
    return out


def change_passphrase(vault_dir: Path, old: str, new: str, *, actor: str = "system") -> None:
    """Rewrap the passphrase slot; no record is touched. Audited as a key operation."""
    if len(new) < 8:
        raise VaultError("the new passphrase must have at least 8 characters")
    settings = Settings.load(vault_dir)
    keyfile = KeyFile.load(settings.key_file)
    try:
        master = keyfile.unlock(old)
    except WrongPassphrase:
        note_unlock_failure(vault_dir, "passphrase")
        raise
    keyfile.set_passphrase(master, new)
    detail = {"slot": "passphrase"}
    _save_audited(settings, keyfile, master, "vault.change_passphrase", actor, detail)


def recover_vault(
    vault_dir: Path, recovery_code: str, new_passphrase: str, *, actor: str = "system"
) -> str:
    """Open with the recovery code, set a new passphrase, issue a fresh recovery code."""
    if len(new_passphrase) < 8:
        raise VaultError("the new passphrase must have at least 8 characters")
    settings = Settings.load(vault_dir)
    keyfile = KeyFile.load(settings.key_file)
    try:
        master = keyfile.unlock_with_recovery(recovery_code)
    except WrongPassphrase:
        note_unlock_failure(vault_dir, "recovery")
        raise
    keyfile.set_passphrase(master, new_passphrase)
    code = keyfile.rotate_recovery(master)
    detail = {"slots": "passphrase,recovery"}
    _save_audited(settings, keyfile, master, "vault.recover", actor, detail)
    return code


def _save_audited(
    settings: Settings, keyfile: KeyFile, master: bytes, action: str, actor: str,
    detail: Mapping[str, object],
) -> None:  # fmt: skip
    """Write the audit entry, save the key file, then commit: a failed save leaves no entry
    (and the old key file); only a failed commit, after the save, would lose the entry."""
    from amparo.audit import AuditLog

    keyring = Keyring(master, keyfile.vault_id)
    store = Store(settings.database_url)
    try:
        with store.write() as conn:
            stored = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "vault_id")
            ).scalar()
            if stored != keyfile.vault_id:
                raise VaultError("this key file does not belong to this database")
            AuditLog(store, keyring, actor=actor).record(
                conn, action, object_type="vault", object_id=keyfile.vault_id, detail=detail
            )
            keyfile.save(settings.key_file)
    finally:
        store.close()
        keyring.close()
