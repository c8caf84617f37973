"""Encrypted file storage: blobs under generated names, sealed with the case key.

The original bytes are sealed whole (AES-GCM, bound to the file id), so a blob renamed or
swapped with another fails to open. Names and hashes live only as ciphertext in the database.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from amparo.errors import IntegrityError, NotFound, ValidationError
from amparo.security.keyfile import write_atomically
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["MAX_FILE_BYTES", "FileStore", "StoredFile"]

MAX_FILE_BYTES = 200 * 1024 * 1024  # whole-file AEAD keeps it simple; videos go elsewhere
T = schema.attachments


@dataclass(frozen=True)
class StoredFile:
    id: str
    case_id: str
    incident_id: str | None
    name: str
    media_type: str
    size: int
    sha256: str


class FileStore:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def _path(self, file_id: str) -> Path:
        if not file_id.isalnum():
            raise NotFound(f"no file {file_id}")
        return self.r.settings.files_dir / file_id[:2] / file_id

    def put(
        self,
        case_id: str,
        name: str,
        data: bytes,
        *,
        media_type: str = "application/octet-stream",
        incident_id: str | None = None,
    ) -> StoredFile:
        self.r.require_in_case("write", "case", case_id, case_id)
        if len(data) > MAX_FILE_BYTES:
            raise ValidationError("file", f"is larger than {MAX_FILE_BYTES} bytes")
        if not name or len(name) > 255 or "\x00" in name:
            raise ValidationError("name", "must be 1 to 255 characters")
        file_id = self.r.new_id()
        digest = hashlib.sha256(data).hexdigest()
        with self.r.store.write() as conn:
            sealer = sealer_for(conn, self.r.keyring, case_id)
            path = self._path(file_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, sealer.seal_bytes(("file", file_id), data))
            try:
                conn.execute(sa.insert(T), [{
                    "id": file_id, "case_id": case_id, "incident_id": incident_id,
                    "name_ct": sealer.seal("attachments", file_id, "name", 0, name),
                    "media_type": media_type, "size": len(data),
                    "sha256_ct": sealer.seal("attachments", file_id, "sha256", 0, digest),
                    "created_at": self.r.clock.now(), "created_by": self.r.actor,
                }])  # fmt: skip
                self.r.audit.record(
                    conn, "file.put", object_type="file", object_id=file_id,
                    detail={"case": case_id, "incident": incident_id},
                )  # fmt: skip
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return StoredFile(file_id, case_id, incident_id, name, media_type, len(data), digest)

    def info(self, file_id: str) -> StoredFile:
        """A file's name, size and hash; the read is audited."""
        info = self._info(file_id)
        self.r.audit.record_alone("file.info", object_type="file", object_id=file_id)
        return info

    def _info(self, file_id: str) -> StoredFile:
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(T).where(T.c.id == file_id)).first()
            if row is None:
                raise NotFound(f"no file {file_id}")
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            self.r.require_in_case("read_identity", "file", file_id, row.case_id)
            return StoredFile(
                id=row.id,
                case_id=row.case_id,
                incident_id=row.incident_id,
                name=sealer.open("attachments", row.id, "name", 0, row.name_ct) or "",
                media_type=row.media_type,
                size=row.size,
                sha256=sealer.open("attachments", row.id, "sha256", 0, row.sha256_ct) or "",
            )

    def read(self, file_id: str) -> bytes:
        info = self._info(file_id)
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, info.case_id)
        try:
            blob = self._path(file_id).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"file {file_id} is missing from the store") from None
        data = sealer.open_bytes(("file", file_id), blob)
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise IntegrityError(f"file {file_id} does not match the hash taken at intake")
        self.r.audit.record_alone("file.read", object_type="file", object_id=file_id)
        return data

    # -- blobs for other services (evidence): no row, no audit; the caller records both ----
    def put_blob(self, sealer: CaseSealer, blob_id: str, aad: tuple[str, ...], data: bytes) -> None:
        """Write ``data`` sealed under ``aad`` (which should name the record and the role of
        the blob, so that a blob swapped with another fails to open) as ``blob_id``."""
        path = self._path(blob_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, sealer.seal_bytes(aad, data))

    def open_blob(self, sealer: CaseSealer, blob_id: str, aad: tuple[str, ...]) -> bytes:
        try:
            blob = self._path(blob_id).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"file {blob_id} is missing from the store") from None
        return sealer.open_bytes(aad, blob)

    def remove_blob(self, file_id: str) -> None:
        path = self._path(file_id)
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as handle:  # best effort: SSDs may keep old blocks
                handle.write(os.urandom(size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
