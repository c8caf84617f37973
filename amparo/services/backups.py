"""Online backups of a whole vault, their verification and their restore into an empty place.

A backup is one file: a short header, then a sealed stream (amparo.security.keyed_stream) of a
tar archive holding a consistent snapshot of the database (SQLite's backup API, or
``pg_dump`` for PostgreSQL: both take one snapshot while writers carry on), the vault's other
files (key file, settings, evidence blobs) and, last, a manifest of every member's size and
SHA-256.

What a lost backup shows. The header holds only the vault's key file (the same wrapped key
slots that sit beside the database, useless without the passphrase or recovery code and
costly to guess through Argon2id) and the backup's key, wrapped under a subkey of the master
key. Everything else -- the database kind, file names and counts, the settings (a PostgreSQL
URL among them), the manifest, the time of the backup -- is inside the stream. The total size
is visible.

Opening a backup takes the passphrase (or the recovery code) that was valid when it was made:
the key file it carries unlocks its master key, which unwraps the backup's key. Every chunk
authenticates the header, so nothing of it can be changed either.

Restore verifies first: it reads the whole backup once, authenticating every chunk and
checking every member against the manifest, before it writes anything. It then writes into a
temporary directory beside the target, checks the database there (integrity, vault id), records
``vault.restore`` in the restored audit log and renames the directory into place: the target
appears whole or not at all. A PostgreSQL database is loaded with ``pg_restore
--single-transaction`` into an empty database (all of it or nothing).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

import sqlalchemy as sa

from amparo import __version__
from amparo.errors import IntegrityError, StorageError, ValidationError, VaultError
from amparo.security.aead import aad_for, new_key, open_sealed, seal
from amparo.security.keyed_stream import StreamReader, StreamWriter
from amparo.security.keyfile import KeyFile
from amparo.security.keyring import Keyring
from amparo.security.permissions import Resource
from amparo.settings import DB_FILE, KEY_FILE, SETTINGS_FILE, Settings

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "BACKUP_NAME",
    "BackupSummary",
    "Member",
    "RestoreResult",
    "ScheduledResult",
    "create_backup",
    "register_scheduled_backup",
    "restore_backup",
    "retained",
    "scheduled",
    "scheduled_backup",
    "verify_backup",
]

MAGIC = b"AMPBACK\x00"
VERSION = 1
HEAD = struct.Struct(f">{len(MAGIC)}sBI")  # magic, version, key file length
WRAPPED = struct.Struct(">H")
MAX_KEY_FILE = 64 * 1024
MANIFEST = "manifest.json"
FORMAT = "amparo-backup"
SQLITE_MEMBER = f"database/{DB_FILE}"
PG_MEMBER = "database/postgresql.dump"  # pg_dump's custom format
READ_BYTES = 1024 * 1024
MEMBER_NAME = re.compile(r"^(vault/[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*"
                         r"|database/(amparo\.db|postgresql\.dump)|manifest\.json)$")  # fmt: skip
# Scheduled backups are named for their UTC time, so names sort as times do.
BACKUP_NAME = re.compile(r"^amparo-backup-(\d{8}T\d{6}Z)(-\d+)?\.ampbak$")
PARTIAL_SUFFIX = ".partial"

log = logging.getLogger("amparo.backups")
Progress = Callable[[int, int], None]  # (done, total) in bytes read or members written


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BackupSummary:
    path: Path | None
    vault_id: str
    created_at: str
    database: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    members: tuple[Member, ...]
    bytes: int  # size of the backup file

    @property
    def files(self) -> int:
        return sum(1 for m in self.members if m.name.startswith("vault/files/"))


@dataclass(frozen=True)
class RestoreResult:
    vault_dir: Path
    summary: BackupSummary
    database_url: str


@dataclass(frozen=True)
class ScheduledResult:
    summary: BackupSummary
    removed: tuple[Path, ...] = field(default=())


# -- the header ----------------------------------------------------------------------------


def _header(keyfile_bytes: bytes, wrapped: bytes) -> bytes:
    return (HEAD.pack(MAGIC, VERSION, len(keyfile_bytes)) + keyfile_bytes
            + WRAPPED.pack(len(wrapped)) + wrapped)  # fmt: skip


def _backup_kek(keyring: Keyring) -> bytes:
    return keyring.subkey("backup-kek")


@dataclass
class _Opened:
    header: bytes
    keyfile: KeyFile
    key: bytes
    offset: int  # where the stream begins


def _open_header(source: BinaryIO, passphrase: str, name: str) -> _Opened:
    """Read and check the header, unlock the key file it carries, unwrap the backup's key."""
    raw = source.read(HEAD.size)
    if len(raw) != HEAD.size or raw[: len(MAGIC)] != MAGIC:
        raise IntegrityError(f"{name} is not an Amparo backup (bad header)")
    _magic, version, keyfile_len = HEAD.unpack(raw)
    if version != VERSION:
        raise IntegrityError(f"{name}: backup format version {version} is not supported")
    if not 0 < keyfile_len <= MAX_KEY_FILE:
        raise IntegrityError(f"{name}: the backup header is damaged")
    keyfile_bytes = source.read(keyfile_len)
    length = source.read(WRAPPED.size)
    if len(keyfile_bytes) != keyfile_len or len(length) != WRAPPED.size:
        raise IntegrityError(f"{name} is truncated (in its header)")
    wrapped = source.read(WRAPPED.unpack(length)[0])
    try:
        keyfile = KeyFile.from_bytes(keyfile_bytes, Path(name))
    except VaultError as exc:
        raise IntegrityError(f"{name}: the backup header is damaged ({exc})") from None
    master = _unlock(keyfile, passphrase)
    keyring = Keyring(master, keyfile.vault_id)
    try:
        key = open_sealed(_backup_kek(keyring), wrapped, aad_for(FORMAT, VERSION,
                                                                  keyfile.vault_id))  # fmt: skip
    except IntegrityError:
        raise IntegrityError(f"{name}: the backup's key failed authentication (altered)") from None
    finally:
        keyring.close()
    header = raw + keyfile_bytes + length + wrapped
    return _Opened(header, keyfile, key, len(header))


def _unlock(keyfile: KeyFile, secret: str) -> bytes:
    """The passphrase, or failing that the recovery code, valid when the backup was made."""
    from amparo.errors import WrongPassphrase

    try:
        return keyfile.unlock(secret)
    except WrongPassphrase:
        try:
            return keyfile.unlock_with_recovery(secret)
        except (WrongPassphrase, VaultError):
            raise WrongPassphrase(
                "neither the passphrase nor the recovery code valid when this backup was made "
                "was given (or the backup's header was altered)"
            ) from None


# -- making a backup -----------------------------------------------------------------------


class _HashingReader:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    # No owner, group or time: the restore sets its own, and nothing leaks into a copy.
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, 0
    return info


def _snapshot_sqlite(db_path: Path, out: Path) -> None:
    """A consistent copy in one step of the backup API: it reads under one read transaction,
    so in WAL mode writers carry on and the copy is the database as of that moment."""
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
        problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise StorageError(f"the database snapshot failed: {exc}") from None
    finally:
        dst.close()
        src.close()
    if problems != ["ok"]:
        raise StorageError(f"the database snapshot failed its check: {'; '.join(problems[:3])}")


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which goes in the environment, not argv)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(args: list[str], url: sa.URL, what: str) -> None:
    conninfo, env = _libpq(url)
    tool = shutil.which(args[0])
    if tool is None:
        raise StorageError(f"{args[0]} is not installed: it is needed to {what}")
    done = subprocess.run(  # noqa: S603 (a fixed tool, arguments as a list)
        [tool, *args[1:], "--dbname", conninfo], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise StorageError(f"{args[0]} failed to {what}: {done.stderr.strip()[-500:]}")


def _vault_files(settings: Settings, db_path: Path | None) -> Iterator[tuple[str, Path]]:
    """Every file of the vault directory but the live database and hidden temporary files."""
    skip = set()
    if db_path is not None:
        skip = {db_path.name + suffix for suffix in ("", "-wal", "-shm", "-journal",
                                                     "-writer.lock")}  # fmt: skip
    root = settings.vault_dir
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for name in sorted(filenames):
            if name.startswith(".") or (here == root and name in skip):
                continue
            path = here / name
            member = "vault/" + path.relative_to(root).as_posix()
            if MEMBER_NAME.match(member):
                yield member, path
            else:  # a restore would refuse the whole backup for it: leave it out, say so
                log.warning("backup: %s left out (a name restore does not accept)", member)


def create_backup(
    registry: Registry, out: Path, *, progress: Progress | None = None
) -> BackupSummary:
    """Write an encrypted backup of the whole vault to ``out`` (whole or not at all), while
    the vault stays in use. Audited as ``vault.backup``."""
    registry.require("key_operations", Resource("vault"))  # a backup carries the key file
    settings, store = registry.settings, registry.store
    from amparo.store.migrate import current_revision

    with store.read() as conn:
        revision = current_revision(conn)
    keyfile_bytes = settings.key_file.read_bytes()
    key = new_key()
    wrapped = seal(_backup_kek(registry.keyring), key,
                   aad_for(FORMAT, VERSION, registry.keyring.vault_id))  # fmt: skip
    header = _header(keyfile_bytes, wrapped)
    out = out.resolve()
    if out.is_relative_to(settings.vault_dir.resolve()):
        raise ValidationError("out", "write the backup outside the vault directory")
    work = settings.vault_dir / f".backup-{secrets.token_hex(6)}"
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    members: list[Member] = []
    created = registry.clock.now().astimezone(UTC).isoformat(timespec="seconds")
    work.mkdir(mode=0o700)
    try:
        db_path = store.path
        if store.dialect == "sqlite":
            assert db_path is not None
            snapshot, db_member = work / DB_FILE, SQLITE_MEMBER
            _snapshot_sqlite(db_path, snapshot)
        else:
            snapshot, db_member = work / "postgresql.dump", PG_MEMBER
            _pg_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                      "--file", str(snapshot)], store.url, "dump the database")  # fmt: skip
        # The database first, then the files: a file a snapshot row names was written before
        # its row committed, so it is there; a file newer than the snapshot is harmless.
        sources = [(db_member, snapshot), *_vault_files(settings, db_path)]
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(header)
            stream = StreamWriter(handle, key, header)
            with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                for index, (name, path) in enumerate(sources):
                    member = _add(tar, name, path, keyfile_bytes)
                    if member is not None:
                        members.append(member)
                    if progress:
                        progress(index + 1, len(sources))
                manifest = json.dumps({
                    "format": FORMAT, "version": VERSION, "created_at": created,
                    "vault_id": registry.keyring.vault_id, "database": store.dialect,
                    "schema_revision": revision, "amparo_version": __version__,
                    "members": [m.__dict__ for m in members],
                }, indent=1).encode()  # fmt: skip
                tar.addfile(_tar_info(MANIFEST, len(manifest)), io.BytesIO(manifest))
            stream.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        raise StorageError(f"the backup could not be written to {out}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    summary = BackupSummary(out, registry.keyring.vault_id, created, store.dialect, revision,
                            tuple(members), out.stat().st_size)  # fmt: skip
    registry.audit.record_alone(
        "vault.backup", object_type="vault", object_id=registry.keyring.vault_id,
        detail={"members": len(members), "files": summary.files, "bytes": summary.bytes,
                "database": store.dialect},
    )  # fmt: skip
    return summary


def _add(tar: tarfile.TarFile, name: str, path: Path, keyfile_bytes: bytes) -> Member | None:
    if name == f"vault/{KEY_FILE}":
        # The key file as the header carries it, even if it was rewrapped a moment ago.
        tar.addfile(_tar_info(name, len(keyfile_bytes)), io.BytesIO(keyfile_bytes))
        return Member(name, len(keyfile_bytes), hashlib.sha256(keyfile_bytes).hexdigest())
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return None  # removed since it was listed (a shredded case's file)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        reader = _HashingReader(handle)
        tar.addfile(_tar_info(name, size), reader)
        return Member(name, size, reader.digest.hexdigest())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading a backup ----------------------------------------------------------------------


class _Counting:
    """The backup file, counting what was read (for progress)."""

    def __init__(self, handle: BinaryIO, total: int, progress: Progress | None) -> None:
        self.handle, self.total, self.progress, self.done = handle, total, progress, 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        if self.progress:
            self.progress(self.done, self.total)
        return data


def _walk(
    path: Path, passphrase: str, write_to: Path | None, progress: Progress | None
) -> tuple[BackupSummary, KeyFile]:
    """Read the whole backup: authenticate every chunk, hash every member, check the
    manifest. With ``write_to``, members are written there as they come (the caller discards
    the directory unless this returns)."""
    total = path.stat().st_size
    with open(path, "rb") as raw:
        source = _Counting(raw, total, progress)
        opened = _open_header(source, passphrase, path.name)  # type: ignore[arg-type]
        stream = StreamReader(source, opened.key, opened.header)  # type: ignore[arg-type]
        seen: dict[str, Member] = {}
        manifest: dict[str, object] | None = None
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for info in tar:
                    if manifest is not None:
                        raise IntegrityError(f"{path.name}: a member follows the manifest")
                    if not info.isreg() or not MEMBER_NAME.match(info.name) or info.name in seen:
                        raise IntegrityError(f"{path.name}: unexpected member {info.name!r}")
                    handle = tar.extractfile(info)
                    assert handle is not None
                    if info.name == MANIFEST:
                        manifest = _parse_manifest(handle.read(), path.name)
                        continue
                    seen[info.name] = _read_member(handle, info, write_to)
            stream.drain()
        except tarfile.TarError as exc:
            raise IntegrityError(f"{path.name}: the archive inside is damaged ({exc})") from None
    if manifest is None:
        raise IntegrityError(f"{path.name} has no manifest")
    listed = {m["name"]: Member(str(m["name"]), int(m["size"]), str(m["sha256"]))
              for m in manifest["members"]}  # type: ignore[attr-defined]  # fmt: skip
    if listed != seen:
        wrong = sorted(set(listed) ^ set(seen) | {n for n in listed if listed[n] != seen.get(n)})
        raise IntegrityError(f"{path.name}: members do not match the manifest: {wrong[:5]}")
    if manifest.get("vault_id") != opened.keyfile.vault_id:
        raise IntegrityError(f"{path.name}: the manifest names another vault")
    database = str(manifest.get("database"))
    if (SQLITE_MEMBER if database == "sqlite" else PG_MEMBER) not in seen:
        raise IntegrityError(f"{path.name} holds no database")
    summary = BackupSummary(
        path, opened.keyfile.vault_id, str(manifest.get("created_at")), database,
        None if manifest.get("schema_revision") is None else str(manifest["schema_revision"]),
        tuple(listed[n] for n in sorted(listed)), total,
    )  # fmt: skip
    return summary, opened.keyfile


def _parse_manifest(data: bytes, name: str) -> dict[str, object]:
    try:
        manifest = json.loads(data)
        if manifest["format"] != FORMAT or manifest["version"] != VERSION:
            raise ValueError("unknown format")
        for m in manifest["members"]:
            if not (MEMBER_NAME.match(m["name"]) and int(m["size"]) >= 0
                    and re.fullmatch(r"[0-9a-f]{64}", m["sha256"])):  # fmt: skip
                raise ValueError(f"member {m!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{name}: its manifest is malformed ({exc})") from None
    return dict(manifest)


def _read_member(handle: IO[bytes], info: tarfile.TarInfo, write_to: Path | None) -> Member:
    digest, size = hashlib.sha256(), 0
    out = None
    if write_to is not None:
        target = write_to / info.name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = open(target, "xb")  # noqa: SIM115 (closed below)
        os.chmod(target, 0o600)
    try:
        while chunk := handle.read(READ_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return Member(info.name, size, digest.hexdigest())


def verify_backup(path: Path, passphrase: str, *, progress: Progress | None = None
                  ) -> BackupSummary:  # fmt: skip
    """Authenticate the whole backup and check every member against its manifest; writes
    nothing. Raises IntegrityError (altered, truncated) or WrongPassphrase."""
    return _walk(path, passphrase, None, progress)[0]


# -- restoring -----------------------------------------------------------------------------


def _pg_is_empty(url: str) -> bool:
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
                "('pg_catalog', 'information_schema')"
            )).scalar()  # fmt: skip
    except sa.exc.DBAPIError as exc:
        raise StorageError(f"the target database cannot be reached: {exc.orig}") from None
    finally:
        engine.dispose()
    return count == 0


def restore_backup(
    path: Path,
    target: Path,
    passphrase: str,
    *,
    database_url: str | None = None,
    actor: str = "system",
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore a backup into ``target`` (absent or an empty directory); a PostgreSQL backup
    goes into ``database_url``, an empty database. Verifies the whole backup before writing
    anything; the target appears whole or not at all."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValidationError("vault", f"{target} is not empty: restore into an empty place")
    summary = verify_backup(path, passphrase, progress=progress)
    if summary.database == "postgresql":
        if not database_url or sa.make_url(database_url).get_backend_name() != "postgresql":
            raise ValidationError("database_url", "this backup holds a PostgreSQL database: "
                                  "give the URL of an empty PostgreSQL database")  # fmt: skip
        if not _pg_is_empty(database_url):
            raise ValidationError("database_url", "the target database is not empty")
    elif database_url and database_url != Settings.default_database_url(target):
        raise ValidationError("database_url", "this backup holds a SQLite database; it is "
                              "restored inside the vault (to move to PostgreSQL, export "
                              "a whole-registry archive instead)")  # fmt: skip
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".{target.name}.restoring-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        # Second pass: write, checking every chunk and hash again (the file could have changed
        # since the first pass); the directory is discarded unless it all holds.
        staging = work / ".staging"
        staging.mkdir(mode=0o700)
        _walk(path, passphrase, staging, None)
        (staging / "vault").replace(work / "vault")
        vault = work / "vault"
        if summary.database == "sqlite":
            (staging / SQLITE_MEMBER).replace(vault / DB_FILE)
            url = Settings.default_database_url(target)
            _check_restored_sqlite(vault / DB_FILE, summary.vault_id)
        else:
            assert database_url is not None
            url = database_url
            _pg_tool(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
                      "--no-privileges", str(staging / PG_MEMBER)], sa.make_url(url),
                     "load the database")  # fmt: skip
        shutil.rmtree(staging)
        (vault / "files").mkdir(exist_ok=True, mode=0o700)
        _point_settings(vault, url if summary.database == "postgresql" else None)
        _record_restore(vault, passphrase, summary, actor)
        if target.exists():
            target.rmdir()  # empty, checked above: the rename needs it gone
        vault.rename(target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise StorageError(f"the restore could not be written: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreResult(target, summary, url)


def _check_restored_sqlite(db: Path, vault_id: str) -> None:
    conn = sqlite3.connect(db)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        stored = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
    except sqlite3.Error as exc:
        raise IntegrityError(f"the restored database cannot be read: {exc}") from None
    finally:
        conn.close()
    if problems != ["ok"]:
        raise IntegrityError(f"the restored database failed its check: {problems[:3]}")
    if stored is None or stored[0] != vault_id:
        raise IntegrityError("the restored database belongs to another vault")


def _point_settings(vault: Path, database_url: str | None) -> None:
    """Point the restored settings at the restored database: a PostgreSQL URL given, or the
    SQLite file inside the vault (whatever path the original used)."""
    path = vault / SETTINGS_FILE
    data = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    if database_url is None and "database_url" not in data:
        return
    settings = Settings.load(vault, env={})
    from dataclasses import replace

    settings = replace(settings, database_url=database_url or Settings.default_database_url(vault))
    settings.save()


def _record_restore(vault: Path, secret: str, summary: BackupSummary, actor: str) -> None:
    """Open the restored vault (with the passphrase or the recovery code the backup opened
    with), bring its schema up to date and record the restore in its audit log."""
    from amparo.registry import Registry
    from amparo.store.engine import Store

    settings = Settings.load(vault, env={})
    keyring = Keyring(_unlock(KeyFile.load(settings.key_file), secret), summary.vault_id)
    store = Store(settings.database_url)
    with Registry(settings, store, keyring, actor=actor) as reg:
        store.migrate()
        reg.audit.record_alone(
            "vault.restore", object_type="vault", object_id=summary.vault_id,
            detail={"backup_created": summary.created_at, "members": len(summary.members),
                    "files": summary.files, "database": summary.database},
        )  # fmt: skip
        if store.dialect == "sqlite":
            store.checkpoint()  # fold the WAL in before the directory moves


# -- scheduled backups and retention -------------------------------------------------------


def _when(name: str) -> datetime | None:
    match = BACKUP_NAME.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def retained(times: list[datetime], keep: int, daily: int = 0, weekly: int = 0) -> set[datetime]:
    """Which backups to keep: the ``keep`` newest, plus the newest of each of the ``daily``
    latest days and of the ``weekly`` latest ISO weeks that have one."""
    ordered = sorted(times, reverse=True)
    kept = set(ordered[:keep])
    for count, bucket in ((daily, _day), (weekly, _week)):
        buckets: set[object] = set()
        for when in ordered:
            key = bucket(when)
            if key not in buckets:
                if len(buckets) >= count:
                    break
                buckets.add(key)
                kept.add(when)
    return kept


def _day(when: datetime) -> object:
    return when.date()


def _week(when: datetime) -> object:
    return tuple(when.isocalendar())[:2]


def scheduled_backup(
    registry: Registry,
    directory: Path,
    *,
    keep: int = 7,
    daily: int = 0,
    weekly: int = 0,
    now: datetime | None = None,
) -> ScheduledResult:
    """A backup named for the time into ``directory``, then the older ones thinned:
    the ``keep`` newest stay, and the newest of each of the last ``daily`` days and ``weekly``
    ISO weeks. Only files named like ``amparo-backup-20261101T030000Z.ampbak`` are touched."""
    if keep < 1:
        raise ValidationError("keep", "keep at least one backup")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    when = (now or registry.clock.now()).astimezone(UTC)
    stem = f"amparo-backup-{when:%Y%m%dT%H%M%SZ}"
    out, n = directory / f"{stem}.ampbak", 1
    while out.exists():
        n += 1
        out = directory / f"{stem}-{n}.ampbak"
    summary = create_backup(registry, out)
    stale = datetime.now(UTC) - timedelta(hours=1)
    for partial in directory.glob(f".amparo-backup-*{PARTIAL_SUFFIX}"):
        if datetime.fromtimestamp(partial.stat().st_mtime, UTC) < stale:
            partial.unlink(missing_ok=True)  # left by a backup that was killed
    found = {p: t for p in directory.iterdir() if (t := _when(p.name)) is not None}
    by_time: dict[datetime, list[Path]] = {}
    for p, t in found.items():
        by_time.setdefault(t, []).append(p)
    keep_times = retained(list(by_time), keep, daily, weekly)
    removed = []
    for t, paths in sorted(by_time.items()):
        if t not in keep_times:
            for p in paths:
                if p != out:
                    p.unlink(missing_ok=True)
                    removed.append(p)
    return ScheduledResult(summary, tuple(removed))


def scheduled(registry: Registry) -> ScheduledResult | None:
    """The periodic job: a scheduled backup as the vault's ``[backup]`` settings say (none
    without a ``directory``)."""
    s = registry.settings
    if s.backup_dir is None:
        return None
    return scheduled_backup(registry, s.backup_dir, keep=s.backup_keep, daily=s.backup_daily,
                            weekly=s.backup_weekly)  # fmt: skip


def register_scheduled_backup(settings: Settings) -> bool:
    """Register :func:`scheduled` with the worker's periodic jobs when the settings ask for
    backups; returns whether it did."""
    if settings.backup_dir is None:
        return False
    from amparo.jobs import register_periodic

    register_periodic("amparo.backup", settings.backup_schedule,
                      "amparo.services.backups:scheduled")  # fmt: skip
    return True
