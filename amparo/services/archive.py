"""The whole registry as one encrypted archive, and its restore into an empty vault.

Lossless by construction: the archive holds every row of every table as stored (ciphertext
stays ciphertext, versions and the audit chain stay as they are), every blob of the file
store byte for byte, and the vault's master key and id, all inside a stream sealed under the
export passphrase (amparo.security.archive_stream). A restore *adopts* the source's keys: the
target vault's key file is rewrapped around the source master key (same passphrase, a new
recovery code), so every ciphertext, blind-index token, per-case key and audit hash stays
valid with nothing decrypted or re-encrypted, and the audit chain of the source continues in
the target with one ``archive.import`` entry. Tables holding only transient state (web
sessions, login and intake throttles, the grants-cache counter) are left out.

A restore reads the archive twice: once to authenticate every chunk and check the manifest
(nothing is written before the whole archive has proved good), once to write, in one
database transaction, with the key file saved just before the commit (and put back if the
commit fails). See docs/import-export.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.errors import Conflict, IntegrityError, ValidationError
from amparo.security.archive_stream import ArchiveReader, ArchiveWriter
from amparo.security.kdf import VAULT_FLOOR, KdfParams
from amparo.security.permissions import Resource
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["DERIVED_TABLES", "EXCLUDED_TABLES", "ArchiveSummary", "RestoreResult", "export_archive",
           "import_archive", "is_empty_vault", "table_rows"]  # fmt: skip

FORMAT = "amparo-archive"
VERSION = 1
EXCLUDED_TABLES: dict[str, str] = {
    "sessions": "web sessions die with the server that issued them",
    "login_throttle": "counters of failed logins, rebuilt by the next failures",
    "intake_rate": "counters of intake submissions per address, short-lived",
    "access_epoch": "a counter that tells servers to reload grants; the target keeps its own",
}
# Tables that database triggers derive from the record tables: not carried, rebuilt whole
# after the restore (the triggers also fire row by row as the record tables fill).
DERIVED_TABLES: dict[str, str] = {
    "act_facts": "coded facets per act for aggregates (amparo.store.facts_ddl)",
}
ROWS_PER_FRAME = 500
FRAME = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024  # a frame header or a batch of rows; files are framed apart
BLOB_PATH = re.compile(r"^[0-9A-Za-z]{2}/[0-9A-Za-z]{1,64}$")  # the file store's own names
Progress = Callable[[str, int], None]


@dataclass
class ArchiveSummary:
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows
    files: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"tables": self.tables, "files": self.files, "file_bytes": self.bytes}


@dataclass
class RestoreResult:
    summary: ArchiveSummary
    recovery_code: str  # the vault's new recovery code, to print once
    source_vault_id: str


def tables() -> list[sa.Table]:
    """The tables an archive carries, parents before children."""
    left_out = EXCLUDED_TABLES.keys() | DERIVED_TABLES.keys()
    return [t for t in schema.metadata.sorted_tables if t.name not in left_out]


# -- values: one portable form, whatever the dialect --------------------------------------
def _encoder(column: sa.Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, sa.LargeBinary):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else _utc(v).isoformat()
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else v.isoformat()
    if column.table.name == "search_docs" and column.name == "tokens":
        # Space-separated text on SQLite, a text array on PostgreSQL: text travels.
        return lambda v: " ".join(v) if isinstance(v, list) else v
    return lambda v: v


def _decoder(column: sa.Column[Any], dialect: str) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, sa.LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v, validate=True)
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else _utc(datetime.fromisoformat(v))
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if column.table.name == "search_docs" and column.name == "tokens" and dialect != "sqlite":
        return lambda v: v.split() if isinstance(v, str) else v
    return lambda v: v


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time Amparo stores is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_rows(conn: Connection, table: sa.Table) -> Iterator[list[Any]]:
    """Every row of a table in primary-key order, in the archive's portable form."""
    encoders = [_encoder(c) for c in table.c]
    order = list(table.primary_key.columns) or list(table.c)
    result = conn.execution_options(yield_per=ROWS_PER_FRAME).execute(
        sa.select(table).order_by(*order)
    )
    for row in result:
        yield [encode(value) for encode, value in zip(encoders, row, strict=True)]


# -- framing inside the sealed stream -----------------------------------------------------
class _Frames:
    def __init__(self, writer: ArchiveWriter) -> None:
        self._writer = writer

    def put(self, header: dict[str, Any], payload: bytes = b"") -> bytes:
        data = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._writer.write(FRAME.pack(len(data)) + data + payload)
        return data


class _FrameReader:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise IntegrityError("archive ends in the middle of a record")
            self._buffer += chunk
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def frames(self) -> Iterator[tuple[dict[str, Any], bytes, bytes]]:
        """(header, its raw bytes, payload) until the end frame (a file's bytes as payload)."""
        while True:
            (length,) = FRAME.unpack(self._read(FRAME.size))
            if length > MAX_FRAME:
                raise IntegrityError("archive holds an impossibly large record")
            raw = self._read(length)
            try:
                header = json.loads(raw)
            except ValueError:
                raise IntegrityError("archive holds a malformed record") from None
            size = int(header.get("size", 0)) if header.get("kind") == "file" else 0
            yield header, raw, self._read(size) if size else b""
            if header.get("kind") == "end":
                if self._buffer or next(self._chunks, None):
                    raise IntegrityError("archive holds data after its end record")
                return


# -- export --------------------------------------------------------------------------------
def _schema_revision(conn: Connection) -> str:
    return str(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one())


def _blob_paths(files_dir: Path) -> list[str]:
    if not files_dir.exists():
        return []
    found = []
    for path in sorted(files_dir.rglob("*")):
        if path.is_file():
            rel = path.relative_to(files_dir).as_posix()
            if BLOB_PATH.match(rel):  # the store writes nothing else there (no temp files)
                found.append(rel)
    return found


def export_archive(
    registry: Registry, out: Path, passphrase: str, *, kdf: KdfParams = VAULT_FLOOR,
    progress: Progress | None = None,
) -> ArchiveSummary:  # fmt: skip
    """Write the whole registry to ``out`` (created private, whole or not at all)."""
    registry.require("export", Resource("registry"))
    registry.require("key_operations", Resource("vault"))  # the archive carries the master key
    if len(passphrase) < 8:
        raise ValidationError("passphrase", "the export passphrase needs at least 8 characters")
    # Recorded first, so the archive carries the entry of its own making.
    registry.audit.record_alone(
        "archive.export", object_type="vault", object_id=registry.keyring.vault_id,
        detail={"kdf_m": kdf.memory_kib, "kdf_t": kdf.time_cost},
    )  # fmt: skip
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    summary = ArchiveSummary()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            _write_archive(registry, handle, passphrase, kdf, summary, progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def _write_archive(
    registry: Registry, handle: BinaryIO, passphrase: str, kdf: KdfParams,
    summary: ArchiveSummary, progress: Progress | None,
) -> None:  # fmt: skip
    writer = ArchiveWriter(handle, passphrase, kdf)
    frames = _Frames(writer)
    manifest: dict[str, Any] = {"tables": {}, "files": {}}
    with registry.store.read() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for every table
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        frames.put({
            "kind": "begin", "format": FORMAT, "version": VERSION,
            "vault_id": registry.keyring.vault_id,
            "master_key": base64.b64encode(registry.keyring.master_key_for_worker()).decode(),
            "schema": _schema_revision(conn), "dialect": conn.dialect.name,
            "created_at": registry.clock.now().isoformat(),
            "excluded": sorted(EXCLUDED_TABLES.keys() | DERIVED_TABLES.keys()),
        })  # fmt: skip
        for table in tables():
            digest, count = hashlib.sha256(), 0
            frames.put({"kind": "table", "table": table.name, "columns": list(table.c.keys())})
            batch: list[list[Any]] = []
            for row in table_rows(conn, table):
                batch.append(row)
                if len(batch) >= ROWS_PER_FRAME:
                    digest.update(frames.put({"kind": "rows", "table": table.name, "rows": batch}))
                    count += len(batch)
                    batch = []
            if batch:
                digest.update(frames.put({"kind": "rows", "table": table.name, "rows": batch}))
                count += len(batch)
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
            summary.tables[table.name] = count
            if progress:
                progress(table.name, count)
        # Blobs after the rows: one written while we read is at worst an orphan, never a
        # row without its file (the file store writes a blob before committing its row).
        for rel in _blob_paths(registry.settings.files_dir):
            try:
                data = (registry.settings.files_dir / rel).read_bytes()
            except FileNotFoundError:  # shredded meanwhile
                continue
            sha = hashlib.sha256(data).hexdigest()
            frames.put({"kind": "file", "path": rel, "size": len(data), "sha256": sha}, data)
            manifest["files"][rel] = {"size": len(data), "sha256": sha}
            summary.files += 1
            summary.bytes += len(data)
    frames.put({"kind": "end", "manifest": manifest})
    writer.close()


# -- restore -------------------------------------------------------------------------------
def is_empty_vault(registry: Registry) -> list[str]:
    """Why the vault is not empty (tables with rows), or [] if a restore may go in."""
    reasons = []
    with registry.store.read() as conn:
        for table in tables():
            if table.name in ("meta", "audit_log"):
                continue
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                reasons.append(table.name)
    return reasons


@dataclass
class _Begin:
    vault_id: str
    master_key: bytes
    schema: str


def _check_begin(header: dict[str, Any], revision: str) -> _Begin:
    if header.get("kind") != "begin" or header.get("format") != FORMAT:
        raise IntegrityError("archive does not start with an Amparo archive record")
    if header.get("version") != VERSION:
        raise IntegrityError(f"archive record format {header.get('version')} is not supported")
    if header.get("schema") != revision:
        raise Conflict(
            f"the archive was made at schema revision {header.get('schema')}, this vault is at "
            f"{revision}: restore it with the Amparo version that made it"
        )
    key = base64.b64decode(str(header.get("master_key", "")))
    vault_id = str(header.get("vault_id", ""))
    if len(key) != 32 or not re.fullmatch(r"[0-9a-f]{32}", vault_id):
        raise IntegrityError("archive holds no usable vault key")
    return _Begin(vault_id, key, revision)


def _replay(
    path: Path, passphrase: str, revision: str, dialect: str,
    on_rows: Callable[[sa.Table, list[dict[str, Any]]], None],
    on_file: Callable[[str, bytes], None],
) -> tuple[_Begin, ArchiveSummary]:  # fmt: skip
    """Authenticate and decode the whole archive, handing rows and files to the callbacks;
    raises at the first fault (the caller writes only what a clean pass allows)."""
    known = {t.name: t for t in tables()}
    summary = ArchiveSummary()
    with path.open("rb") as handle:
        frames = _FrameReader(ArchiveReader(handle, passphrase).chunks()).frames()
        first, _raw, _ = next(frames)
        begin = _check_begin(first, revision)
        digests: dict[str, Any] = {}
        decoders: dict[str, list[Callable[[Any], Any]]] = {}
        columns: dict[str, list[str]] = {}
        files: dict[str, dict[str, Any]] = {}
        for header, raw, payload in frames:
            kind = header.get("kind")
            if kind == "table":
                table = known.get(str(header.get("table")))
                if table is None or header.get("columns") != list(table.c.keys()):
                    raise IntegrityError(f"archive table {header.get('table')} does not match "
                                         "this schema")  # fmt: skip
                columns[table.name] = list(table.c.keys())
                decoders[table.name] = [_decoder(c, dialect) for c in table.c]
                digests[table.name] = hashlib.sha256()
                summary.tables[table.name] = 0
            elif kind == "rows":
                name = str(header.get("table"))
                if name not in decoders:
                    raise IntegrityError("archive rows come before their table")
                digests[name].update(raw)
                names, decode = columns[name], decoders[name]
                rows = [
                    {c: dec(v) for c, dec, v in zip(names, decode, row, strict=True)}
                    for row in header["rows"]
                ]
                summary.tables[name] += len(rows)
                on_rows(known[name], rows)
            elif kind == "file":
                rel = str(header.get("path"))
                if not BLOB_PATH.match(rel):
                    raise IntegrityError(f"archive file name {rel!r} is not a store name")
                if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
                    raise IntegrityError(f"archive file {rel} does not match its hash")
                files[rel] = {"size": len(payload), "sha256": header["sha256"]}
                summary.files += 1
                summary.bytes += len(payload)
                on_file(rel, payload)
            elif kind == "end":
                _check_manifest(header.get("manifest") or {}, digests, summary, files)
            else:
                raise IntegrityError(f"archive holds an unknown record kind {kind!r}")
    return begin, summary


def _check_manifest(
    manifest: dict[str, Any], digests: dict[str, Any], summary: ArchiveSummary,
    files: dict[str, dict[str, Any]],
) -> None:  # fmt: skip
    listed = manifest.get("tables", {})
    if set(listed) != set(digests):
        raise IntegrityError("archive manifest lists other tables than it holds")
    for name, entry in listed.items():
        if entry.get("rows") != summary.tables[name] or entry.get("sha256") != (
            digests[name].hexdigest()
        ):
            raise IntegrityError(f"archive table {name} does not match its manifest")
    if manifest.get("files", {}) != files:
        raise IntegrityError("archive files do not match its manifest")


def import_archive(
    registry: Registry, path: Path, passphrase: str, vault_passphrase: str,
    *, progress: Progress | None = None,
) -> RestoreResult:  # fmt: skip
    """Restore an archive into this (empty) vault. Afterwards the vault holds the source's
    keys: close ``registry`` and open the vault again (same passphrase)."""
    from amparo.audit import AuditLog
    from amparo.security.keyfile import KeyFile, write_atomically
    from amparo.security.keyring import Keyring

    registry.require("create", Resource("registry"))
    registry.require("key_operations", Resource("vault"))
    settings = registry.settings
    current = KeyFile.load(settings.key_file)
    current.unlock(vault_passphrase)  # the passphrase the restored key file will answer to
    busy = is_empty_vault(registry)
    if busy:
        raise Conflict(f"the vault is not empty (rows in {', '.join(busy)}): restore an "
                       "archive only into a vault just made with 'amparo init'")  # fmt: skip
    dialect = registry.store.dialect
    with registry.store.read() as conn:
        revision = _schema_revision(conn)
    # Pass 1: everything authenticated and decoded, nothing written.
    _replay(path, passphrase, revision, dialect, lambda t, r: None, lambda p, d: None)

    written: list[Path] = []
    backup = settings.key_file.with_name(f".{settings.key_file.name}.before-restore")
    write_atomically(backup, current.dumps())  # private, like the key file itself
    try:
        with registry.store.write() as conn:
            prior = int(conn.execute(sa.select(sa.func.count()).select_from(
                schema.audit_log)).scalar_one())  # fmt: skip
            conn.execute(sa.delete(schema.audit_log))
            conn.execute(sa.delete(schema.meta))

            later: list[tuple[sa.Table, dict[str, Any], dict[str, Any]]] = []

            def store_rows(table: sa.Table, rows: list[dict[str, Any]]) -> None:
                # A row may point at a later row of its own table (a defender merged into
                # another): such links are set once every row is in.
                for column in _self_references(table):
                    for row in rows:
                        if row[column] is not None:
                            keys = {c.name: row[c.name] for c in table.primary_key.columns}
                            later.append((table, keys, {column: row[column]}))
                            row[column] = None
                conn.execute(sa.insert(table), rows)
                if progress:
                    progress(table.name, len(rows))

            def store_file(rel: str, data: bytes) -> None:
                target = settings.files_dir / rel
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                write_atomically(target, data)
                written.append(target)

            begin, summary = _replay(path, passphrase, revision, dialect, store_rows,
                                     store_file)  # fmt: skip
            for table, keys, values in later:
                where = [table.c[name] == value for name, value in keys.items()]
                conn.execute(sa.update(table).where(*where).values(**values))
            _rebuild_derived(conn)
            _reset_sequences(conn)
            keyring = Keyring(begin.master_key, begin.vault_id)
            try:
                AuditLog(registry.store, keyring, clock=registry.clock, actor=registry.actor)\
                    .record(conn, "archive.import", object_type="vault",
                            object_id=begin.vault_id,
                            detail={"rows": sum(summary.tables.values()), "files": summary.files,
                                    "replaced_entries": prior})  # fmt: skip
            finally:
                keyring.close()
            restored, code = current.for_restored_vault(
                begin.master_key, begin.vault_id, vault_passphrase
            )
            restored.save(settings.key_file)  # committed next; put back below if that fails
    except BaseException:
        current.save(settings.key_file)
        for target in written:
            target.unlink(missing_ok=True)
        raise
    finally:
        backup.unlink(missing_ok=True)
    return RestoreResult(summary=summary, recovery_code=code, source_vault_id=begin.vault_id)


def _rebuild_derived(conn: Connection) -> None:
    from amparo.store.facts_ddl import BACKFILL

    if "act_facts" in schema.metadata.tables:
        conn.execute(sa.delete(schema.metadata.tables["act_facts"]))
        conn.exec_driver_sql(BACKFILL(conn.dialect.name))


def _self_references(table: sa.Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: serial columns continue after the restored ids (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        # Names from the declared schema, never from the archive.
        conn.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "  # noqa: S608
            f"COALESCE(MAX({column.name}), 1), MAX({column.name}) IS NOT NULL) FROM {table.name}"
        ))  # fmt: skip
