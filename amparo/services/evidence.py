"""Evidence files and captures of online content, with a chain of custody per item.

At intake: the SHA-256 of the upload is taken before anything else; the type is sniffed from
the bytes; archives are checked for bombs and images for decompression bombs, and a shared
copy without metadata is made, all in a resource-limited child process
(amparo.evidence.sandbox). The original is sealed whole with the case key and never changed;
the shared copy is sealed beside it. Both live under generated ids; the uploaded name, the
description, a capture's URL and every hash are stored only as ciphertext.

Every access is written twice: to the audit log (the vault's tamper-evident record of who did
what) and to the item's own custody log (``custody``), which holds, per event, who, when and
the hashes of both copies, chained with an HMAC so an edited or deleted entry shows. There is
no method to change or delete either; shredding the case removes them with everything else.

Downloading the original (metadata and all: GPS, camera serial numbers, authors) needs the
``read_original`` permission; the shared copy needs only what reading the case needs.
Captures record what a user saved of a web page: the URL and time they give, and their
screenshot or saved HTML. Amparo never fetches anything.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.audit import encode_field
from amparo.clock import utc
from amparo.errors import Conflict, IntegrityError, NotFound, ValidationError
from amparo.evidence.names import display_name
from amparo.evidence.sandbox import DEFAULT_LIMITS, Limits, prepare_shared_copy
from amparo.evidence.sniff import PAGE_TYPES, sniff
from amparo.evidence.strip import NONE, Refused
from amparo.services.lookup import resolve_prefix
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "CAPTURE_TYPES",
    "EVENTS",
    "MAX_EVIDENCE_BYTES",
    "CustodyEntry",
    "EvidenceContent",
    "EvidenceItem",
    "EvidenceService",
    "VerifyReport",
]

MAX_EVIDENCE_BYTES = 100 * 1024 * 1024  # whole-file AEAD and a child process hold it in memory
MAX_DESCRIPTION = 10_000
MAX_URL = 4_096
CLOCK_SKEW = timedelta(minutes=5)  # a phone a little ahead of the server is not "the future"
EARLIEST_CAPTURE = datetime(1990, 1, 1, tzinfo=UTC)
EVENTS = ("added", "viewed", "downloaded_original", "downloaded_shared", "exported", "verified")
# What a capture may be: the user's screenshot, a page saved as PDF, or the saved page itself.
CAPTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf",
                           *PAGE_TYPES})  # fmt: skip
ZERO_MAC = b"\x00" * 32
E = schema.evidence
C = schema.custody_log


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    case_id: str
    incident_id: str | None
    kind: str  # file | capture
    name: str
    media_type: str
    size: int
    sha256: str
    shared_status: str  # stripped | kept | none
    shared_media_type: str | None
    shared_size: int | None
    shared_sha256: str | None
    metadata_removed: tuple[str, ...]
    description: str | None
    url: str | None
    captured_at: datetime | None
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "incident_id": self.incident_id,
            "kind": self.kind, "name": self.name, "media_type": self.media_type,
            "size": self.size, "sha256": self.sha256, "shared_status": self.shared_status,
            "shared_media_type": self.shared_media_type, "shared_size": self.shared_size,
            "shared_sha256": self.shared_sha256, "metadata_removed": list(self.metadata_removed),
            "description": self.description, "url": self.url,
            "captured_at": None if self.captured_at is None else self.captured_at.isoformat(),
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
        }  # fmt: skip


@dataclass(frozen=True)
class EvidenceContent:
    """The bytes of one copy, with what a download needs to name it."""

    evidence_id: str
    data: bytes
    media_type: str
    name: str
    sha256: str


@dataclass(frozen=True)
class CustodyEntry:
    seq: int
    at: datetime
    actor: str
    event: str
    sha256: str | None
    shared_sha256: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at.isoformat(), "actor": self.actor,
            "event": self.event, "sha256": self.sha256, "shared_sha256": self.shared_sha256,
            "detail": self.detail,
        }  # fmt: skip


@dataclass(frozen=True)
class VerifyReport:
    evidence_id: str
    ok: bool
    original_ok: bool
    shared_ok: bool | None  # None: there is no shared copy
    custody_ok: bool
    sha256: str | None  # recomputed now; None when the blob could not be opened
    shared_sha256: str | None
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "evidence_id": self.evidence_id, "ok": self.ok, "original_ok": self.original_ok,
            "shared_ok": self.shared_ok, "custody_ok": self.custody_ok, "sha256": self.sha256,
            "shared_sha256": self.shared_sha256, "problems": list(self.problems),
        }  # fmt: skip


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(field: str, value: str | None, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > limit or "\x00" in value:
        raise ValidationError(field, f"must be at most {limit} characters, without NUL")
    return value


def check_url(url: str) -> str:
    """An http(s) address as a person would paste it; stored, never fetched."""
    text = (url or "").strip()
    if not text:
        raise ValidationError("url", "is required")
    if len(text) > MAX_URL:
        raise ValidationError("url", f"must be at most {MAX_URL} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValidationError("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        raise ValidationError("url", "is not a valid address") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", "must be an http or https address with a host")
    return text


def check_captured_at(value: datetime, now: datetime) -> datetime:
    """When the user captured the page: not in the future (beyond clock skew), not before
    the web was in use. A time without a zone is taken as UTC."""
    at = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if at > now + CLOCK_SKEW:
        raise ValidationError("captured_at", "is in the future")
    if at < EARLIEST_CAPTURE:
        raise ValidationError("captured_at", f"is before {EARLIEST_CAPTURE.year}")
    return at


class EvidenceService:
    def __init__(self, registry: Registry, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.r = registry
        self.limits = limits

    # -- intake ---------------------------------------------------------------------------
    def add(
        self,
        case_id: str | None,
        name: str,
        data: bytes,
        *,
        incident_id: str | None = None,
        description: str | None = None,
    ) -> EvidenceItem:
        """Store an evidence file (the client's type is never asked: the bytes tell)."""
        return self._add("file", case_id, incident_id, name, data, description=description)

    def add_capture(
        self,
        case_id: str | None,
        url: str,
        captured_at: datetime,
        name: str,
        data: bytes,
        *,
        incident_id: str | None = None,
        note: str | None = None,
    ) -> EvidenceItem:
        """Store what a user captured of online content: their screenshot or saved page, the
        address and the time they give. Nothing is fetched."""
        clean_url = check_url(url)
        at = check_captured_at(captured_at, self.r.clock.now())
        return self._add("capture", case_id, incident_id, name, data, description=note,
                         url=clean_url, captured_at=at)  # fmt: skip

    def _add(
        self, kind: str, case_id: str | None, incident_id: str | None, raw_name: str,
        data: bytes, *, description: str | None, url: str | None = None,
        captured_at: datetime | None = None,
    ) -> EvidenceItem:  # fmt: skip
        case_id = self._target_case(case_id, incident_id)
        self.r.require_in_case("write", "case", case_id, case_id)
        name = display_name(raw_name)
        description = _text("description", description, MAX_DESCRIPTION)
        if not data:
            raise ValidationError("file", f"'{name}' is empty")
        if len(data) > MAX_EVIDENCE_BYTES:
            raise ValidationError("file", f"'{name}' is larger than {MAX_EVIDENCE_BYTES} bytes")
        digest = _sha256(data)  # first: the hash of exactly what arrived
        media_type = sniff(data)
        if kind == "capture" and media_type not in CAPTURE_TYPES:
            raise ValidationError(
                "file", f"'{name}' is not a screenshot (JPEG, PNG, WebP), a PDF or a saved web "
                "page (HTML, MHTML)",
            )  # fmt: skip
        try:
            copy = prepare_shared_copy(data, media_type, self.limits)
        except Refused as exc:
            raise ValidationError("file", f"'{name}' {exc}") from None
        shared = None if copy.status == NONE else copy.data
        shared_digest = None if shared is None else _sha256(shared)
        evidence_id = self.r.new_id()
        original_blob = self.r.new_id()
        shared_blob = None if shared is None or shared == data else self.r.new_id()
        written: list[str] = []
        try:
            with self.r.store.write() as conn:
                sealer = sealer_for(conn, self.r.keyring, case_id)
                files = self.r.files
                files.put_blob(sealer, original_blob, _aad(evidence_id, "original"), data)
                written.append(original_blob)
                if shared_blob is not None and shared is not None:
                    files.put_blob(sealer, shared_blob, _aad(evidence_id, "shared"), shared)
                    written.append(shared_blob)

                def seal(field: str, value: str | None) -> bytes | None:
                    return sealer.seal("evidence", evidence_id, field, 0, value)

                row = {
                    "id": evidence_id, "case_id": case_id, "incident_id": incident_id,
                    "kind": kind, "name_ct": seal("name", name),
                    "description_ct": seal("description", description),
                    "url_ct": seal("url", url), "captured_at": captured_at,
                    "media_type": media_type, "size": len(data),
                    "sha256_ct": seal("sha256", digest), "original_blob": original_blob,
                    "shared_status": copy.status,
                    "shared_media_type": None if shared is None else copy.media_type,
                    "shared_size": None if shared is None else len(shared),
                    "shared_sha256_ct": seal("shared_sha256", shared_digest),
                    "shared_blob": shared_blob,
                    "removed_ct": sealer.seal_json(
                        "evidence", evidence_id, "removed", 0, list(copy.removed)
                    ),
                    "created_at": self.r.clock.now(), "created_by": self.r.actor,
                }  # fmt: skip
                conn.execute(sa.insert(E), [row])
                self.r.audit.record(
                    conn, "evidence.add", object_type="evidence", object_id=evidence_id,
                    detail={"case": case_id, "incident": incident_id, "kind": kind,
                            "type": media_type, "shared": copy.status},
                )  # fmt: skip
                self._custody(conn, sealer, evidence_id, case_id, "added", digest,
                              shared_digest, f"kind={kind}")  # fmt: skip
                stored = conn.execute(sa.select(E).where(E.c.id == evidence_id)).one()
                return self._item(sealer, stored)
        except BaseException:
            for blob_id in written:
                self.r.files.remove_blob(blob_id)
            raise

    def _target_case(self, case_id: str | None, incident_id: str | None) -> str:
        """The case to file into: given, or the incident's (which must agree)."""
        for name, value in (("case_id", case_id), ("incident_id", incident_id)):
            if value is not None and not _is_id(value):
                raise ValidationError(name, "is not an Amparo id")
        if incident_id is None:
            if not case_id:
                raise ValidationError("case_id", "give a case or an incident")
            return case_id
        with self.r.store.read() as conn:
            found = conn.execute(
                sa.select(schema.incidents.c.case_id).where(schema.incidents.c.id == incident_id)
            ).scalar()
        if found is None:
            raise NotFound(f"no incident {incident_id}")
        self.r.require_in_case("read_identity", "incident", incident_id, str(found))
        if case_id and case_id != found:
            raise ValidationError("case_id", "is not the case of the incident")
        return str(found)

    # -- reading --------------------------------------------------------------------------
    def resolve(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, E, id_or_prefix, "evidence item")

    def get(self, evidence_id: str) -> EvidenceItem:
        """An item's description (name, hashes, URL); a view in its custody log."""
        row = self._visible(evidence_id, "read_identity")
        with self.r.store.write() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            item = self._item(sealer, row)
            self.r.audit.record(conn, "evidence.read", object_type="evidence",
                                object_id=evidence_id)  # fmt: skip
            self._custody(conn, sealer, item.id, item.case_id, "viewed", item.sha256,
                          item.shared_sha256, "")  # fmt: skip
        return item

    def list(
        self, *, case_id: str | None = None, incident_id: str | None = None
    ) -> builtins.list[EvidenceItem]:
        """Items of a case or an incident (or all the principal may see), oldest first."""
        stmt = sa.select(E).order_by(E.c.created_at, E.c.id)
        if case_id is not None:
            if not _is_id(case_id):
                raise NotFound(f"no case {case_id!r}")
            self.r.require_in_case("read_identity", "case", case_id, case_id)
            stmt = stmt.where(E.c.case_id == case_id)
        if incident_id is not None:
            if not _is_id(incident_id):
                raise ValidationError("incident_id", "is not an Amparo id")
            stmt = stmt.where(E.c.incident_id == incident_id)
        visible = self.r.visible_cases()
        items: builtins.list[EvidenceItem] = []
        with self.r.store.write() as conn:
            if visible is None or visible:
                if visible is not None:  # need-to-know: only cases the principal is in
                    stmt = stmt.where(in_cases(E.c.case_id, visible, conn.dialect.name))
                sealers: dict[str, CaseSealer] = {}
                for row in conn.execute(stmt).all():
                    if row.case_id not in sealers:
                        sealers[row.case_id] = sealer_for(conn, self.r.keyring, row.case_id)
                    items.append(self._item(sealers[row.case_id], row))
            filters = [n for n, v in (("case", case_id), ("incident", incident_id)) if v]
            self.r.audit.record(conn, "evidence.list", object_type="evidence",
                                detail={"count": len(items), "filters": filters})  # fmt: skip
        return items

    def custody(self, evidence_id: str) -> builtins.list[CustodyEntry]:
        """The item's chain of custody, oldest first (audited)."""
        row = self._visible(evidence_id, "read_identity")
        with self.r.store.write() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            entries = [entry for entry, _ in self._custody_rows(conn, sealer, evidence_id)]
            self.r.audit.record(
                conn, "evidence.custody", object_type="evidence", object_id=evidence_id,
                detail={"entries": len(entries)},
            )  # fmt: skip
        return entries

    def shared_copy(self, evidence_id: str) -> EvidenceContent:
        """The copy without metadata; Conflict when the kind of file has none."""
        row = self._visible(evidence_id, "read_identity")
        content = self._content(row, "shared")
        self._record_access(row, "evidence.read_shared", "downloaded_shared")
        return content

    def original(self, evidence_id: str) -> EvidenceContent:
        """The original exactly as received, metadata and all: needs ``read_original``."""
        row = self._visible(evidence_id, "read_identity")
        self.r.require_in_case("read_original", "file", evidence_id, row.case_id)
        content = self._content(row, "original")
        self._record_access(row, "evidence.read_original", "downloaded_original")
        return content

    def export(self, evidence_id: str, copy: str = "shared") -> EvidenceContent:
        """A copy to write out of the vault: needs ``export`` (and ``read_original`` for the
        original)."""
        if copy not in ("shared", "original"):
            raise ValidationError("copy", "must be shared or original")
        row = self._visible(evidence_id, "read_identity")
        self.r.require_in_case("export", "file", evidence_id, row.case_id)
        if copy == "original":
            self.r.require_in_case("read_original", "file", evidence_id, row.case_id)
        content = self._content(row, copy)
        self._record_access(row, "evidence.export", "exported", copy)
        return content

    def verify(self, evidence_id: str) -> VerifyReport:
        """Re-hash both copies against the hashes taken at intake and check the custody
        chain; the result is recorded in the custody log either way."""
        row = self._visible(evidence_id, "read_identity")
        problems: builtins.list[str] = []
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            item = self._item(sealer, row)
            try:
                custody = self._custody_rows(conn, sealer, evidence_id)
                chain = _chain_problems(custody, lambda e, p: self._mac(evidence_id, e, p))
            except IntegrityError as exc:
                chain = [f"custody log: {exc}"]
        problems.extend(chain)
        sha = self._rehash(sealer, row, "original", problems)
        original_ok = sha is not None and sha == item.sha256
        if sha is not None and not original_ok:
            problems.append("original: its SHA-256 differs from the one taken at intake")
        shared_sha: str | None = None
        shared_ok: bool | None = None
        if item.shared_sha256 is not None:
            shared_sha = self._rehash(sealer, row, "shared", problems)
            shared_ok = shared_sha is not None and shared_sha == item.shared_sha256
            if shared_sha is not None and not shared_ok:
                problems.append("shared copy: its SHA-256 differs from the one taken at intake")
        ok = original_ok and shared_ok is not False and not chain
        result = "ok" if ok else "failed"
        with self.r.store.write() as conn:
            self.r.audit.record(conn, "evidence.verify", object_type="evidence",
                                object_id=evidence_id, detail={"result": result})  # fmt: skip
            self._custody(conn, sealer, evidence_id, row.case_id, "verified", sha, shared_sha,
                          f"result={result}")  # fmt: skip
        return VerifyReport(evidence_id, ok, original_ok, shared_ok, not chain, sha, shared_sha,
                            tuple(problems))  # fmt: skip

    # -- internals ------------------------------------------------------------------------
    def _visible(self, evidence_id: str, action: str) -> Row[Any]:
        if not _is_id(evidence_id):
            raise NotFound(f"no evidence item {evidence_id!r}")
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(E).where(E.c.id == evidence_id)).first()
        if row is None:
            raise NotFound(f"no evidence item {evidence_id}")
        self.r.require_in_case(action, "file", evidence_id, row.case_id)
        return row

    def _item(self, sealer: CaseSealer, row: Row[Any]) -> EvidenceItem:
        def opened(field: str, value: bytes | None) -> str | None:
            return sealer.open("evidence", row.id, field, 0, value)

        removed = sealer.open_json("evidence", row.id, "removed", 0, row.removed_ct) or []
        return EvidenceItem(
            id=row.id, case_id=row.case_id, incident_id=row.incident_id, kind=row.kind,
            name=opened("name", row.name_ct) or "", media_type=row.media_type,
            size=int(row.size), sha256=opened("sha256", row.sha256_ct) or "",
            shared_status=row.shared_status, shared_media_type=row.shared_media_type,
            shared_size=None if row.shared_size is None else int(row.shared_size),
            shared_sha256=opened("shared_sha256", row.shared_sha256_ct),
            metadata_removed=tuple(str(x) for x in removed),
            description=opened("description", row.description_ct),
            url=opened("url", row.url_ct),
            captured_at=None if row.captured_at is None else utc(row.captured_at),
            created_at=utc(row.created_at), created_by=row.created_by,
        )  # fmt: skip

    def _blob(self, sealer: CaseSealer, row: Row[Any], copy: str) -> bytes:
        if copy == "original" or row.shared_blob is None:
            blob_id, role = row.original_blob, "original"
        else:
            blob_id, role = row.shared_blob, "shared"
        return self.r.files.open_blob(sealer, blob_id, _aad(row.id, role))

    def _content(self, row: Row[Any], copy: str) -> EvidenceContent:
        if copy == "shared" and row.shared_status == NONE:
            raise Conflict(
                f"evidence item {row.id} has no shared copy: Amparo cannot remove metadata "
                f"from this kind of file ({row.media_type}); only the original exists"
            )
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
        item = self._item(sealer, row)
        data = self._blob(sealer, row, copy)
        expected = item.sha256 if copy == "original" else item.shared_sha256
        digest = _sha256(data)
        if digest != expected:
            raise IntegrityError(
                f"evidence item {row.id}: the {copy} copy does not match its intake hash"
            )
        media_type = item.media_type if copy == "original" else item.shared_media_type
        return EvidenceContent(row.id, data, media_type or item.media_type, item.name, digest)

    def _record_access(self, row: Row[Any], action: str, event: str, copy: str = "") -> None:
        with self.r.store.write() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            item = self._item(sealer, row)
            self.r.audit.record(conn, action, object_type="evidence", object_id=row.id,
                                detail={"copy": copy} if copy else "")  # fmt: skip
            self._custody(conn, sealer, row.id, row.case_id, event, item.sha256,
                          item.shared_sha256, f"copy={copy}" if copy else "")  # fmt: skip

    def _rehash(
        self, sealer: CaseSealer, row: Row[Any], copy: str, problems: builtins.list[str]
    ) -> str | None:
        try:
            return _sha256(self._blob(sealer, row, copy))
        except IntegrityError as exc:
            problems.append(f"{copy}: {exc}")
            return None

    # -- the custody log ------------------------------------------------------------------
    def _mac(self, evidence_id: str, entry: CustodyEntry, prev: bytes) -> bytes:
        body = json.dumps(
            [evidence_id, entry.seq, entry.at.isoformat(timespec="microseconds"), entry.actor,
             entry.event, entry.sha256, entry.shared_sha256, entry.detail, prev.hex()],
            ensure_ascii=True, separators=(",", ":"),
        )  # fmt: skip
        key = self.r.keyring.subkey("custody-log")
        return hmac.new(key, body.encode(), hashlib.sha256).digest()

    def _custody(
        self, conn: Connection, sealer: CaseSealer, evidence_id: str, case_id: str,
        event: str, sha256: str | None, shared_sha256: str | None, detail: str,
    ) -> None:  # fmt: skip
        """Append one entry. Call after audit.record in the same transaction: on PostgreSQL
        its lock serialises appends, so two requests never take the same ``seq``."""
        if event not in EVENTS:
            raise ValueError(f"unknown custody event {event!r}")
        tail = conn.execute(
            sa.select(C.c.seq, C.c.entry_mac)
            .where(C.c.evidence_id == evidence_id)
            .order_by(C.c.seq.desc())
            .limit(1)
        ).first()
        seq = 1 if tail is None else int(tail.seq) + 1
        prev = ZERO_MAC if tail is None else bytes(tail.entry_mac)
        actor = encode_field(self.r.actor)[:120]
        entry = CustodyEntry(seq, utc(self.r.clock.now()), actor, event, sha256, shared_sha256,
                             detail[:200])  # fmt: skip
        entry_id = self.r.new_id()
        conn.execute(sa.insert(C), [{
            "id": entry_id, "evidence_id": evidence_id, "case_id": case_id, "seq": seq,
            "at": entry.at, "actor": actor, "event": event,
            "sha256_ct": sealer.seal("custody_log", entry_id, "sha256", 0, sha256),
            "shared_sha256_ct": sealer.seal("custody_log", entry_id, "shared_sha256", 0,
                                            shared_sha256),
            "detail": entry.detail, "entry_mac": self._mac(evidence_id, entry, prev),
        }])  # fmt: skip

    def _custody_rows(
        self, conn: Connection, sealer: CaseSealer, evidence_id: str
    ) -> builtins.list[tuple[CustodyEntry, bytes]]:
        rows = conn.execute(
            sa.select(C).where(C.c.evidence_id == evidence_id).order_by(C.c.seq)
        ).all()
        out = []
        for row in rows:
            entry = CustodyEntry(
                seq=int(row.seq), at=utc(row.at), actor=row.actor, event=row.event,
                sha256=sealer.open("custody_log", row.id, "sha256", 0, row.sha256_ct),
                shared_sha256=sealer.open("custody_log", row.id, "shared_sha256", 0,
                                          row.shared_sha256_ct),
                detail=row.detail,
            )  # fmt: skip
            out.append((entry, bytes(row.entry_mac)))
        return out


def _is_id(value: str) -> bool:
    """Amparo's ids are lower-case hex; anything else (NUL above all, which PostgreSQL
    refuses inside a query) never reaches the database."""
    return 0 < len(value) <= 32 and all(ch in "0123456789abcdef" for ch in value)


def _aad(evidence_id: str, role: str) -> tuple[str, ...]:
    return ("evidence", evidence_id, role)


def _chain_problems(
    rows: list[tuple[CustodyEntry, bytes]], mac: Callable[[CustodyEntry, bytes], bytes]
) -> list[str]:
    """The first break in a custody chain: a missing, reordered or altered entry."""
    prev = ZERO_MAC
    for expected, (entry, stored) in enumerate(rows, start=1):
        if entry.seq != expected:
            return [f"custody log: entry {expected} is missing"]
        if not hmac.compare_digest(mac(entry, prev), stored):
            return [f"custody log: entry {entry.seq} was altered or does not follow the one "
                    "before it"]  # fmt: skip
        prev = stored
    if not rows:
        return ["custody log: it is empty (its 'added' entry is missing)"]
    return []
