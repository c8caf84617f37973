"""Secure intake: reports from people without an account, kept sealed until a person reviews.

A submission comes from the public report form, the ``/api/v1/intake`` API or an offline
field bundle. On receipt its answers and files are checked (field limits; files with the
evidence limits and checks: sniffed type, archive and decompression bombs refused, metadata
found by the same sandboxed stripper), packed in memory and sealed to the active intake
public key (amparo.security.intake_keys) *before* anything is written: the database holds the
sealed box and routing bookkeeping only (channel, state, hour of arrival, the hash of the
receipt code). Nothing reaches the registry until a reviewer opens a submission (which
decrypts it in memory, audited) and then accepts it as a new incident (through the normal
incident validation, its files becoming evidence), links it to an existing incident or
defender, or discards it with a reason.

The submitter's receipt code (160 random bits, shown once; only its SHA-256 is stored) tells
its status: ``received``, ``in_review`` or ``acted_on`` (accepted, linked or discarded: the
code does not say which, so whoever finds it on a phone learns nothing of what was done).

Bundles from field devices are verified (Ed25519); bundles signed by an unknown or revoked
device are stored sealed but quarantined, and must be released on purpose before they are
accepted or linked. Importing is idempotent by submission id: a replayed bundle is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.clock import utc
from amparo.errors import Conflict, IntegrityError, NotFound, ValidationError
from amparo.security import intake_keys as ik
from amparo.security import throttle
from amparo.security.aead import aad_for, open_sealed, seal
from amparo.security.intake_bundle import (
    SubmissionFile,
    pack_submission,
    read_bundle,
    unpack_submission,
)
from amparo.security.permissions import Resource
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.services.defenders import DefenderSummary
    from amparo.services.incidents import IncidentSummary

__all__ = [
    "ANSWERS",
    "CONSENTS",
    "MAX_FILES",
    "MAX_SUBMISSION_BYTES",
    "PUBLIC_STATUSES",
    "ImportResult",
    "InboxItem",
    "IntakeKeyInfo",
    "IntakeService",
    "IntakeThrottled",
    "OpenedSubmission",
    "Receipt",
    "Suggestions",
    "hash_receipt",
    "new_receipt_code",
    "public_status",
]

K = schema.intake_keys
D = schema.intake_devices
S = schema.intake_submissions
R = schema.intake_rate
T = schema.login_throttle  # failed receipt look-ups back off like failed sign-ins

MiB = 1024 * 1024
MAX_SUBMISSION_BYTES = 20 * MiB  # files and answers together; the whole box is held in memory
MAX_FILES = 5
# Answers: field -> longest text (characters). Only what a reviewer needs to act.
ANSWERS: Mapping[str, int] = {
    "what": 20_000,  # what happened
    "when": 200,  # when: a date (YYYY-MM-DD) or words ("last night")
    "where": 500,  # where
    "who": 1_000,  # who is at risk
    "contact": 1_000,  # how to reach the person safely (or nothing)
}
CONSENTS = ("contact", "documentation", "sharing_with_partners", "publication")
CHANNELS = ("form", "api", "bundle")
PUBLIC_STATUSES = ("received", "in_review", "acted_on")
SUBMISSIONS_PER_ADDRESS = 5  # per RATE_WINDOW from one client address (or IPv6 /64)
SUBMISSIONS_PER_WINDOW = 300  # from everyone: over Tor all clients share one address
RATE_WINDOW = timedelta(hours=1)
RECEIPT_BYTES = 20  # 160 bits: guessing one of a million live codes stays hopeless
SUGGESTIONS = 5
DATE_WINDOW = timedelta(days=7)  # incidents this close to the reported date are suggested


class IntakeThrottled(Conflict):
    """Too many submissions or failed look-ups from here, or from everyone, for now."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("too many submissions for now; try again later")
        self.retry_after = retry_after


def new_receipt_code() -> str:
    import base64

    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def hash_receipt(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode("ascii", errors="replace")).hexdigest()


def public_status(state: str) -> str:
    if state == "received":
        return "received"
    if state == "opened":
        return "in_review"
    return "acted_on"


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    code: str


@dataclass(frozen=True)
class IntakeKeyInfo:
    id: str
    public_key: str
    fingerprint: str
    status: str
    created_at: datetime
    submissions: int


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    public_key: str
    fingerprint: str
    label: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ImportResult:
    submission_id: str
    outcome: str  # imported | quarantined | duplicate
    quarantine: str | None = None


@dataclass(frozen=True)
class InboxItem:
    id: str
    channel: str
    received_at: datetime
    state: str
    status: str
    quarantine: str | None
    incident_id: str | None
    defender_id: str | None


@dataclass(frozen=True)
class OpenedSubmission:
    id: str
    channel: str
    state: str
    quarantine: str | None
    received_at: datetime
    answers: dict[str, Any]
    files: list[SubmissionFile]
    device: str | None = None  # the signer's fingerprint, for bundles
    device_label: str | None = None

    @property
    def consent(self) -> list[str]:
        return [c for c in self.answers.get("consent", []) if c in CONSENTS]


@dataclass(frozen=True)
class Suggestions:
    defenders: list[DefenderSummary] = field(default_factory=list)
    incidents: list[IncidentSummary] = field(default_factory=list)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as they will be sealed; ValidationError naming the first bad field."""
    unknown = set(answers) - set(ANSWERS) - {"consent", "language"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a question of the report form")
    out: dict[str, Any] = {}
    for name, limit in ANSWERS.items():
        value = answers.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationError(name, "must be text")
        if len(value) > limit:
            raise ValidationError(name, f"is longer than {limit} characters")
        text = value.replace("\x00", "").strip()
        if len(text) > limit:
            raise ValidationError(name, f"is longer than {limit} characters")
        if text:
            out[name] = text
    if "what" not in out:
        raise ValidationError("what", "tell us what happened")
    consent = answers.get("consent") or []
    if isinstance(consent, str):
        consent = [consent]
    if not isinstance(consent, list | tuple) or any(c not in CONSENTS for c in consent):
        raise ValidationError("consent", f"choose among {', '.join(CONSENTS)}")
    out["consent"] = sorted(set(consent))
    language = answers.get("language")
    if isinstance(language, str) and language.isalpha() and len(language) <= 8:
        out["language"] = language
    return out


class IntakeService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # -- keys ----------------------------------------------------------------------------
    def _kek(self) -> bytes:
        return self.r.keyring.subkey(ik.KEK_PURPOSE)

    def _require_manage(self) -> None:
        self.r.require("manage_intake", Resource("intake"))

    def _require_review(self) -> None:
        self.r.require("review_intake", Resource("intake"))

    def _insert_key(self, conn: Connection) -> str:
        pair = ik.generate()
        key_id = self.r.new_id()
        conn.execute(sa.insert(K), [{
            "id": key_id, "public_key": pair.public,
            "private_ct": ik.wrap_private(self._kek(), key_id, pair.private),
            "status": "active", "created_at": self.r.clock.now(), "created_by": self.r.actor,
        }])  # fmt: skip
        return key_id

    def keygen(self) -> IntakeKeyInfo:
        """Create the first intake key pair; Conflict if one is active (use rotate)."""
        self._require_manage()
        with self.r.store.write() as conn:
            if conn.execute(sa.select(K.c.id).where(K.c.status == "active")).first():
                raise Conflict("this vault already has an intake key; rotate it instead")
            key_id = self._insert_key(conn)
            self.r.audit.record(conn, "intake.keygen", object_type="intake_key", object_id=key_id)
        return self._key_info(key_id)

    def rotate(self) -> IntakeKeyInfo:
        """A new active key; the old one stays able to open what was sealed to it."""
        self._require_manage()
        with self.r.store.write() as conn:
            old = conn.execute(sa.select(K.c.id).where(K.c.status == "active")).scalars().all()
            conn.execute(sa.update(K).where(K.c.status == "active").values(status="previous"))
            key_id = self._insert_key(conn)
            self.r.audit.record(conn, "intake.rotate", object_type="intake_key",
                                object_id=key_id, detail={"previous": ",".join(old)})  # fmt: skip
        return self._key_info(key_id)

    def retire(self, key_id: str, *, force: bool = False) -> int:
        """Destroy a previous key's private half; submissions sealed to it and not yet decided
        become unreadable, so that needs ``force``. Returns how many were left undecided."""
        self._require_manage()
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(K).where(K.c.id == key_id)).first()
            if row is None:
                raise NotFound(f"no intake key {key_id}")
            if row.status == "active":
                raise Conflict("the active intake key cannot be retired; rotate first")
            if row.status == "retired":
                raise Conflict(f"intake key {key_id} is already retired")
            undecided = S.c.state.in_(("received", "opened"))
            pending = int(conn.execute(sa.select(sa.func.count()).select_from(S).where(
                S.c.key_id == key_id, undecided)).scalar_one())  # fmt: skip
            if pending and not force:
                raise Conflict(f"{pending} submission(s) sealed to this key are not decided yet; "
                               "decide them first or retire with force")  # fmt: skip
            conn.execute(sa.update(K).where(K.c.id == key_id).values(
                status="retired", private_ct=None, retired_at=self.r.clock.now()))  # fmt: skip
            self.r.audit.record(conn, "intake.retire", object_type="intake_key",
                                object_id=key_id, detail={"undecided": pending})  # fmt: skip
        return pending

    def list_keys(self) -> list[IntakeKeyInfo]:
        self._require_manage()
        with self.r.store.read() as conn:
            ids = conn.execute(sa.select(K.c.id).order_by(K.c.created_at, K.c.id)).scalars().all()
        return [self._key_info(key_id) for key_id in ids]

    def _key_info(self, key_id: str) -> IntakeKeyInfo:
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(K).where(K.c.id == key_id)).one()
            count = conn.execute(sa.select(sa.func.count()).select_from(S).where(
                S.c.key_id == key_id)).scalar_one()  # fmt: skip
        public = bytes(row.public_key)
        return IntakeKeyInfo(id=row.id, public_key=ik.format_key(public),
                             fingerprint=ik.fingerprint(public), status=row.status,
                             created_at=utc(row.created_at), submissions=int(count))  # fmt: skip

    def public_key(self) -> str:
        """The active public key as text (public: anyone may have it)."""
        with self.r.store.read() as conn:
            public = conn.execute(sa.select(K.c.public_key).where(K.c.status == "active")).scalar()
        if public is None:
            raise NotFound("this vault has no intake key yet: run 'amparo intake keygen'")
        return ik.format_key(bytes(public))

    def _active(self, conn: Connection) -> tuple[str, bytes]:
        row = conn.execute(sa.select(K.c.id, K.c.public_key).where(K.c.status == "active")).first()
        if row is None:
            raise NotFound("intake is not set up: this vault has no intake key")
        return str(row.id), bytes(row.public_key)

    # -- devices -------------------------------------------------------------------------
    def add_device(self, public_key: str, label: str) -> DeviceInfo:
        self._require_manage()
        key = ik.parse_key(public_key, ik.DEVICE_PREFIX)
        label = label.strip()
        if not label or len(label) > 200:
            raise ValidationError("label", "name the device in 1 to 200 characters")
        device_id = self.r.new_id()
        with self.r.store.write() as conn:
            if conn.execute(sa.select(D.c.id).where(D.c.public_key == key)).first():
                raise Conflict("that device key is already registered")
            conn.execute(sa.insert(D), [{
                "id": device_id, "public_key": key, "label_ct": self._seal_label(device_id, label),
                "status": "active", "created_at": self.r.clock.now(), "created_by": self.r.actor,
            }])  # fmt: skip
            self.r.audit.record(conn, "intake.device_add", object_type="intake_device",
                                object_id=device_id)  # fmt: skip
        return self._device(device_id)

    def revoke_device(self, device: str) -> DeviceInfo:
        """Revoke by id or by public key text; its later bundles are quarantined."""
        self._require_manage()
        with self.r.store.write() as conn:
            row = self._find_device(conn, device)
            conn.execute(sa.update(D).where(D.c.id == row.id).values(
                status="revoked", revoked_at=self.r.clock.now()))  # fmt: skip
            self.r.audit.record(conn, "intake.device_revoke", object_type="intake_device",
                                object_id=row.id)  # fmt: skip
        return self._device(row.id)

    def devices(self) -> list[DeviceInfo]:
        self._require_manage()
        with self.r.store.read() as conn:
            ids = conn.execute(sa.select(D.c.id).order_by(D.c.created_at, D.c.id)).scalars().all()
        self.r.audit.record_alone("intake.device_list", detail={"count": len(ids)})
        return [self._device(device_id) for device_id in ids]

    def _find_device(self, conn: Connection, device: str) -> Row[Any]:
        text = device.strip()
        if text.startswith(ik.DEVICE_PREFIX):
            row = conn.execute(
                sa.select(D).where(D.c.public_key == ik.parse_key(text, ik.DEVICE_PREFIX))
            ).first()
        else:
            rows = conn.execute(sa.select(D).where(D.c.id.startswith(text, autoescape=True))
                                ).all() if text else []  # fmt: skip
            if len(rows) > 1:
                raise ValidationError("device", f"'{text}' matches several devices")
            row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"no registered device {text}")
        return row

    def _seal_label(self, device_id: str, label: str) -> bytes:
        return seal(self.r.keyring.subkey("intake-device-label"), label.encode("utf-8"),
                    aad_for("intake_devices", device_id, "label"))  # fmt: skip

    def _label(self, row: Row[Any]) -> str:
        return open_sealed(self.r.keyring.subkey("intake-device-label"), bytes(row.label_ct),
                           aad_for("intake_devices", row.id, "label")).decode("utf-8")  # fmt: skip

    def _device(self, device_id: str) -> DeviceInfo:
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(D).where(D.c.id == device_id)).one()
        key = bytes(row.public_key)
        return DeviceInfo(id=row.id, public_key=ik.format_key(key, ik.DEVICE_PREFIX),
                          fingerprint=ik.fingerprint(key), label=self._label(row),
                          status=row.status, created_at=utc(row.created_at))  # fmt: skip

    # -- receiving -----------------------------------------------------------------------
    def check_files(self, files: Sequence[tuple[str, bytes]]) -> list[SubmissionFile]:
        """The evidence checks, in memory (the sandboxed child reads the bytes on stdin)."""
        from amparo.evidence.names import display_name
        from amparo.evidence.sandbox import prepare_shared_copy
        from amparo.evidence.sniff import sniff
        from amparo.evidence.strip import Refused

        if len(files) > MAX_FILES:
            raise ValidationError("files", f"send at most {MAX_FILES} files")
        total = sum(len(data) for _, data in files)
        if total > MAX_SUBMISSION_BYTES:
            raise ValidationError("files", f"are larger than {MAX_SUBMISSION_BYTES} bytes together")
        out = []
        for raw_name, data in files:
            name = display_name(raw_name)
            if not data:
                raise ValidationError("files", f"'{name}' is empty")
            media_type = sniff(data)
            try:
                copy = prepare_shared_copy(data, media_type, self.r.evidence.limits)
            except Refused as exc:
                raise ValidationError("files", f"'{name}' {exc}") from None
            out.append(SubmissionFile(name=name, media_type=media_type, data=data,
                                      metadata_found=tuple(copy.removed)))  # fmt: skip
        return out

    def receive(
        self, answers: Mapping[str, Any], files: Sequence[tuple[str, bytes]] = (), *,
        channel: str = "form", address: str = "unknown",
    ) -> Receipt:  # fmt: skip
        """Seal a submission and store it; returns its receipt (the code is shown once)."""
        if channel not in ("form", "api"):
            raise ValidationError("channel", "must be form or api")
        self._check_rate(address)
        cleaned = clean_answers(answers)
        checked = self.check_files(files)
        submission_id = secrets.token_hex(16)  # not new_id(): that holds the millisecond
        code = new_receipt_code()
        payload = pack_submission({"id": submission_id, "channel": channel, **cleaned}, checked)
        if len(payload) > MAX_SUBMISSION_BYTES + MiB:
            raise ValidationError("body", "the submission is too large")
        with self.r.store.write() as conn:
            key_id, public = self._active(conn)
            sealed = ik.seal_to(public, payload)  # the plaintext never leaves this process
            del payload
            self._count(conn, address)
            conn.execute(sa.insert(S), [self._row(submission_id, channel, key_id, sealed,
                                                  hash_receipt(code))])  # fmt: skip
            self.r.audit.record(conn, "intake.receive", object_type="intake_submission",
                                object_id=submission_id, actor="anonymous",
                                detail={"channel": channel, "files": len(checked)})  # fmt: skip
        return Receipt(submission_id=submission_id, code=code)

    def _row(
        self, submission_id: str, channel: str, key_id: str, sealed: bytes,
        receipt_hash: str | None, *, device: bytes | None = None, quarantine: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return {"id": submission_id, "channel": channel, "key_id": key_id, "sealed_ct": sealed,
                "device_key": device, "quarantine": quarantine, "state": "received",
                "receipt_hash": receipt_hash, "received_at": _hour(self.r.clock.now())}  # fmt: skip

    def _rate_keys(self, address: str) -> list[tuple[str, int]]:
        secret = self.r.keyring.subkey("throttle/intake")
        return [
            (throttle.address_key(secret, address), SUBMISSIONS_PER_ADDRESS),
            (hmac.new(secret, b"all", hashlib.sha256).hexdigest(), SUBMISSIONS_PER_WINDOW),
        ]

    def _check_rate(self, address: str) -> None:
        now = self.r.clock.now()
        with self.r.store.read() as conn:
            for key, limit in self._rate_keys(address):
                row = conn.execute(sa.select(R).where(R.c.key == key)).first()
                if row is None:
                    continue
                ends = utc(row.window_start) + RATE_WINDOW
                if ends > now and int(row._mapping["count"]) >= limit:
                    raise IntakeThrottled(ends - now)

    def _count(self, conn: Connection, address: str) -> None:
        now = self.r.clock.now()
        for key, limit in self._rate_keys(address):
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                             {"k": f"amparo-intake:{key}"})  # fmt: skip
            row = conn.execute(sa.select(R).where(R.c.key == key)).first()
            if row is None:
                conn.execute(sa.insert(R), [{"key": key, "window_start": now, "count": 1}])
            elif utc(row.window_start) + RATE_WINDOW <= now:
                conn.execute(sa.update(R).where(R.c.key == key).values(window_start=now, count=1))
            elif int(row._mapping["count"]) >= limit:
                raise IntakeThrottled(utc(row.window_start) + RATE_WINDOW - now)
            else:
                conn.execute(sa.update(R).where(R.c.key == key).values(count=R.c.count + 1))

    def import_bundle(self, data: bytes, name: str = "bundle") -> ImportResult:
        """Verify and store a field bundle, sealed as it came. Replays are ignored."""
        self._require_review()
        bundle = read_bundle(data, name)
        with self.r.store.write() as conn:
            key = conn.execute(sa.select(K.c.id, K.c.status).where(
                K.c.public_key == bundle.to)).first()  # fmt: skip
            if key is None or key.status == "retired":
                raise ValidationError(
                    "bundle",
                    f"{name}: sealed to an intake key this vault "
                    "does not hold (or has retired); nothing was imported",
                )
            if conn.execute(sa.select(S.c.id).where(S.c.id == bundle.submission_id)).first():
                return ImportResult(bundle.submission_id, "duplicate")
            device = conn.execute(sa.select(D.c.status).where(
                D.c.public_key == bundle.device)).scalar()  # fmt: skip
            quarantine = {None: "unknown_device", "revoked": "revoked_device"}.get(device)
            receipt = bundle.receipt_hash
            if (
                receipt is not None
                and conn.execute(sa.select(S.c.id).where(S.c.receipt_hash == receipt)).first()
            ):
                raise ValidationError("bundle", f"{name}: its receipt code is already in use")
            conn.execute(sa.insert(S), [self._row(bundle.submission_id, "bundle", key.id,
                                                  bundle.sealed, receipt, device=bundle.device,
                                                  quarantine=quarantine)])  # fmt: skip
            self.r.audit.record(conn, "intake.import", object_type="intake_submission",
                                object_id=bundle.submission_id,
                                detail={"quarantine": quarantine or "no"})  # fmt: skip
        return ImportResult(bundle.submission_id,
                            "quarantined" if quarantine else "imported", quarantine)  # fmt: skip

    # -- the submitter's status ------------------------------------------------------------
    def receipt_wait(self, address: str) -> timedelta:
        key = self._lookup_key(address)
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(T).where(T.c.key == key)).first()
        return throttle.retry_after(_throttle_state(row), self.r.clock.now())

    def status(self, code: str, address: str = "unknown") -> str:
        """received | in_review | acted_on; NotFound (and a failure counted) otherwise."""
        wait = self.receipt_wait(address)
        if wait:
            raise IntakeThrottled(wait)
        digest = hash_receipt(code) if 0 < len(code) <= 200 else ""
        with self.r.store.read() as conn:
            state = conn.execute(sa.select(S.c.state).where(S.c.receipt_hash == digest)).scalar()
        if state is None:
            self._lookup_failed(address)
            raise NotFound("no submission has that receipt code")
        return public_status(str(state))

    def _lookup_key(self, address: str) -> str:
        return throttle.address_key(self.r.keyring.subkey("throttle/intake-receipt"), address)

    def _lookup_failed(self, address: str) -> None:
        key = self._lookup_key(address)
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(T).where(T.c.key == key)).first()
            new = throttle.record_failure(_throttle_state(row), now)
            values = {"failures": new.failures, "last_failure_at": new.last_failure_at,
                      "blocked_until": new.blocked_until}  # fmt: skip
            if row is None:
                conn.execute(sa.insert(T), [{"key": key, **values}])
            else:
                conn.execute(sa.update(T).where(T.c.key == key).values(**values))

    # -- the inbox -----------------------------------------------------------------------
    def inbox(self, *, include_decided: bool = False) -> list[InboxItem]:
        self._require_review()
        query = sa.select(S).order_by(S.c.received_at.desc(), S.c.id)
        if not include_decided:
            query = query.where(S.c.state.in_(("received", "opened")))
        with self.r.store.read() as conn:
            rows = conn.execute(query).all()
        self.r.audit.record_alone("intake.list", detail={"count": len(rows)})
        return [InboxItem(id=row.id, channel=row.channel, received_at=utc(row.received_at),
                          state=row.state, status=public_status(row.state),
                          quarantine=row.quarantine, incident_id=row.incident_id,
                          defender_id=row.defender_id) for row in rows]  # fmt: skip

    def resolve(self, id_or_prefix: str) -> str:
        text = id_or_prefix.strip().lower()
        if not text or not all(ch in "0123456789abcdef" for ch in text):
            raise NotFound(f"no submission {id_or_prefix}")
        with self.r.store.read() as conn:
            ids = conn.execute(sa.select(S.c.id).where(S.c.id.startswith(text)).limit(2)
                               ).scalars().all()  # fmt: skip
        if not ids:
            raise NotFound(f"no submission {id_or_prefix}")
        if len(ids) > 1:
            raise ValidationError("submission", f"'{id_or_prefix}' matches several submissions")
        return str(ids[0])

    def open(self, submission_id: str) -> OpenedSubmission:
        """Decrypt a submission in memory (audited); the first opening marks it in review."""
        self._require_review()
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(S).where(S.c.id == submission_id)).first()
            if row is None:
                raise NotFound(f"no submission {submission_id}")
            opened = self._decrypt(conn, row)
            if row.state == "received":
                first = sa.update(S).where(S.c.id == row.id, S.c.state == "received")
                conn.execute(first.values(state="opened", opened_at=self.r.clock.now(),
                                          opened_by=self.r.actor))  # fmt: skip
            self.r.audit.record(conn, "intake.open", object_type="intake_submission",
                                object_id=row.id, detail={"files": len(opened.files)})  # fmt: skip
        return OpenedSubmission(**{**opened.__dict__, "state": "opened"
                                   if row.state == "received" else row.state})  # fmt: skip

    def _decrypt(self, conn: Connection, row: Row[Any]) -> OpenedSubmission:
        key = conn.execute(sa.select(K).where(K.c.id == row.key_id)).one()
        if key.private_ct is None:
            raise IntegrityError(f"submission {row.id} was sealed to a retired intake key")
        private = ik.unwrap_private(self._kek(), key.id, bytes(key.private_ct))
        answers, files = unpack_submission(ik.open_box(private, bytes(row.sealed_ct)))
        if answers.pop("id", None) != row.id:
            raise IntegrityError(f"submission {row.id} holds another submission's content")
        label = None
        fingerprint = None
        if row.device_key is not None:
            device = bytes(row.device_key)
            if answers.pop("device", None) != device.hex():
                raise IntegrityError(f"submission {row.id} was re-signed by another device")
            fingerprint = ik.fingerprint(device)
            found = conn.execute(sa.select(D).where(D.c.public_key == device)).first()
            label = None if found is None else self._label(found)
        answers.pop("channel", None)
        return OpenedSubmission(id=row.id, channel=row.channel, state=row.state,
                                quarantine=row.quarantine, received_at=utc(row.received_at),
                                answers=answers, files=files, device=fingerprint,
                                device_label=label)  # fmt: skip

    def suggestions(self, opened: OpenedSubmission) -> Suggestions:
        """Possible duplicates: defenders whose names match the words of "who is at risk"
        (through the blind index), incidents near the reported date."""
        out = Suggestions()
        who = str(opened.answers.get("who", ""))
        if who:
            words = [w for w in who.replace(",", " ").split() if len(w) > 2][:6]
            seen: set[str] = set()
            for word in words:
                for found in self.r.defenders.search(word, limit=SUGGESTIONS):
                    if found.id not in seen and len(out.defenders) < SUGGESTIONS:
                        seen.add(found.id)
                        out.defenders.append(found)
        when = _reported_date(opened.answers.get("when"))
        if when is not None:
            from amparo.services.incidents import IncidentFilter

            near = IncidentFilter(date_from=when - DATE_WINDOW, date_to=when + DATE_WINDOW,
                                  limit=SUGGESTIONS)  # fmt: skip
            out.incidents.extend(self.r.incidents.list(near))
        return out

    def prefill(self, opened: OpenedSubmission) -> dict[str, Any]:
        """A new incident's fields from a submission (a reviewer completes and corrects)."""
        a = opened.answers
        what = str(a.get("what", ""))
        title = what.splitlines()[0][:120] if what else "Intake submission"
        when = _reported_date(a.get("when"))
        data: dict[str, Any] = {"title": title, "narrative": what,
                                "date_start": (when or self.r.clock.today()).isoformat(),
                                "confidential": True}  # fmt: skip
        if when is None:
            data["date_precision"] = "estimate"
            data["notes"] = {"date_start": f"reported as: {a.get('when', 'not given')}"[:500]}
        if a.get("where"):
            data["place"] = str(a["where"])[:200]
        data["acts"] = [{"act_type": "", "victim_description": str(a.get("who", ""))[:1000]
                         or None}]  # fmt: skip
        source_type = "partner_ngo" if opened.channel == "bundle" else "victim_testimony"
        data["sources"] = [{"source_type": source_type, "identity": a.get("contact"),
                            "description": f"Intake submission {opened.id}"}]  # fmt: skip
        return data

    def _decidable(self, conn: Connection, submission_id: str, release: bool) -> Row[Any]:
        row = conn.execute(sa.select(S).where(S.c.id == submission_id)).first()
        if row is None:
            raise NotFound(f"no submission {submission_id}")
        if row.state not in ("received", "opened"):
            raise Conflict(f"submission {submission_id} was already decided ({row.state})")
        if row.quarantine and not release:
            raise Conflict(f"submission {submission_id} is quarantined ({row.quarantine}); "
                           "release it deliberately to accept or link it")  # fmt: skip
        return row

    def accept(
        self, submission_id: str, fields: Mapping[str, Any], *, case_id: str | None = None,
        act_type: str | None = None, release: bool = False,
    ) -> str:  # fmt: skip
        """A new incident from the submission, prefilled and overridden by ``fields`` (and
        ``act_type``, the reviewer's code for the prefilled act); it goes through the normal
        incident validation. Its files become the incident's evidence."""
        self._require_review()
        with self.r.store.read() as conn:
            row = self._decidable(conn, submission_id, release)
            opened = self._decrypt(conn, row)
        data = {**self.prefill(opened), **dict(fields)}
        if act_type is not None and "acts" not in fields:
            data["acts"] = [{**data["acts"][0], "act_type": act_type}]
        incident = self.r.incidents.add(data, case_id=case_id)
        assert incident.id is not None and incident.case_id is not None
        self._attach(opened, incident.case_id, incident.id)
        self._decide(submission_id, "accepted", "intake.accept", release,
                     incident_id=incident.id)  # fmt: skip
        return incident.id

    def link(
        self, submission_id: str, *, incident_id: str | None = None,
        defender_id: str | None = None, release: bool = False,
    ) -> None:  # fmt: skip
        """Link to an existing incident (files become its evidence) or defender."""
        self._require_review()
        if (incident_id is None) == (defender_id is None):
            raise ValidationError("target", "link to one incident or one defender")
        with self.r.store.read() as conn:
            row = self._decidable(conn, submission_id, release)
            opened = self._decrypt(conn, row)
        if incident_id is not None:
            incident = self.r.incidents.get(self.r.incidents.resolve(incident_id))
            assert incident.id is not None and incident.case_id is not None
            self.r.require_in_case("write", "incident", incident.id, incident.case_id)
            self._attach(opened, incident.case_id, incident.id)
            self._decide(submission_id, "linked", "intake.link", release, incident_id=incident.id)
        else:
            assert defender_id is not None
            defender = self.r.defenders.get(self.r.defenders.resolve(defender_id))
            assert defender.id is not None and defender.case_id is not None
            self.r.require_in_case("write", "defender", defender.id, defender.case_id)
            self._decide(submission_id, "linked", "intake.link", release, defender_id=defender.id)

    def discard(self, submission_id: str, reason: str) -> None:
        self._require_review()
        text = reason.strip()
        if not text or len(text) > 2000:
            raise ValidationError("reason", "give a reason of 1 to 2000 characters")
        with self.r.store.read() as conn:
            self._decidable(conn, submission_id, release=True)
        ct = seal(self.r.keyring.subkey("intake-reason"), text.encode("utf-8"),
                  aad_for("intake_submissions", submission_id, "reason"))  # fmt: skip
        self._decide(submission_id, "discarded", "intake.discard", True, reason_ct=ct)

    def discard_reason(self, submission_id: str) -> str | None:
        self._require_review()
        with self.r.store.read() as conn:
            ct = conn.execute(sa.select(S.c.reason_ct).where(S.c.id == submission_id)).scalar()
        if ct is None:
            return None
        return open_sealed(
            self.r.keyring.subkey("intake-reason"),
            bytes(ct),
            aad_for("intake_submissions", submission_id, "reason"),
        ).decode()

    def _attach(self, opened: OpenedSubmission, case_id: str, incident_id: str) -> None:
        for item in opened.files:
            self.r.evidence.add(case_id, item.name, item.data, incident_id=incident_id,
                                description=f"From intake submission {opened.id}")  # fmt: skip

    def _decide(
        self, submission_id: str, state: str, action: str, release: bool, **values: Any
    ) -> None:
        with self.r.store.write() as conn:
            done = conn.execute(sa.update(S).where(
                S.c.id == submission_id, S.c.state.in_(("received", "opened"))).values(
                state=state, decided_at=self.r.clock.now(), decided_by=self.r.actor, **values)
            ).rowcount  # fmt: skip
            if not done:
                raise Conflict(f"submission {submission_id} was decided meanwhile")
            detail = {k: v for k, v in values.items() if k.endswith("_id")}
            if release:
                detail["released"] = "yes"
            self.r.audit.record(conn, action, object_type="intake_submission",
                                object_id=submission_id, detail=detail)  # fmt: skip

    def count_pending(self) -> int:
        with self.r.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(S).where(
                S.c.state.in_(("received", "opened")))).scalar_one())  # fmt: skip


def _throttle_state(row: Row[Any] | None) -> throttle.ThrottleState | None:
    if row is None:
        return None
    return throttle.ThrottleState(
        int(row.failures), utc(row.last_failure_at),
        None if row.blocked_until is None else utc(row.blocked_until))  # fmt: skip


def _reported_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
