"""The audit log: an append-only, keyed hash chain of who did what to which record, and when.

Each entry holds actor, action, object type and id, UTC time and non-sensitive ``detail``
(counts, field names, versions, ids) -- never field values. Text is escaped by
:func:`encode_field` so an entry is always one safe line (no CR/LF, ANSI or bidi controls).

``entry_hash = HMAC-SHA256(subkey("audit-chain"), canonical(seq, at, actor, action,
object_type, object_id, detail, prev_hash))``: keyed, so someone with database access alone
cannot recompute a forged chain. The latest head (``seq:hash:mac``) is kept in ``meta`` under
``audit_head``, updated in the same transaction, so a truncated tail is detected and later
appends continue from the recorded head (leaving a visible gap). A signed checkpoint
(Ed25519, key derived from the master key) kept off the machine detects even a history
rewritten by someone holding the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Connection

from amparo.clock import Clock, utc
from amparo.security.keyring import Keyring
from amparo.store import schema
from amparo.store.engine import Store

__all__ = [
    "ACTIONS",
    "CHECKPOINT_FORMAT",
    "READ_ACTIONS",
    "AuditEntry",
    "AuditLog",
    "VerifyResult",
    "encode_field",
    "filter_names",
    "render_actions",
]

# action, actor, object type, object id, detail
_Item = tuple[str, str, str | None, str | None, "str | Mapping[str, object]"]

ACTIONS: dict[str, str] = {
    "incident.create": "An incident was created (by 'incidents add' or one per imported row).",
    "incident.amend": "Fields of an incident were changed (detail: field names, new version).",
    "incident.delete": "An incident was removed (its sealed history remains).",
    "incident.restore": "An earlier version of an incident was made current again.",
    "incident.read": "One incident was shown in full.",
    "incident.reveal": "The confidential fields of an incident were revealed on screen.",
    "incident.diff": "Two versions of an incident were compared field by field.",
    "incident.list": "Incidents were listed or searched (detail: count, filter names used).",
    "case.list": "Cases the actor is a member of were listed, with their titles (detail: count).",
    "case.open": "A case was opened on its own (`amparo cases open`; its title stays sealed).",
    "incident.export": "Incidents left the vault in full (detail: count, format, filter names).",
    "defender.create": "A defender profile was created.",
    "defender.amend": "Fields of a profile were changed (detail: field names, new version).",
    "defender.delete": "A profile was removed (its sealed history remains).",
    "defender.restore": "An earlier version of a profile was made current again.",
    "defender.merge": "A duplicate profile was folded into this one (detail: duplicate id).",
    "defender.read": "One profile was shown in full.",
    "defender.diff": "Two versions of a profile were compared field by field.",
    "defender.list": "Profiles were listed or searched (detail: count, filter names used).",
    "case.shred": "A case's key was destroyed and its records deleted (detail: counts).",
    "file.put": "A file was stored, encrypted.",
    "file.info": "A file's name and hash were read.",
    "file.read": "A file's content was read.",
    "vault.change_passphrase": "The passphrase slot of the key file was rewrapped.",
    "vault.recover": "The vault was opened with its recovery code; a new code was issued.",
    "vault.backup": "An encrypted backup of the whole vault was written (detail: members, "
    "files, bytes, database kind; never the file's place).",
    "vault.restore": "This vault was restored from a backup; the entry opens its life after the "
    "restore (detail: when the backup was made, members, files, database kind).",
    "vault.unlock_failed": "A wrong passphrase or recovery code was tried (moved here from "
    "unlock-failures.log at the next successful unlock; detail: when, which slot).",
    "auth.login": "A user completed sign-in with a second factor (detail: which factor).",
    "auth.login_failed": "A sign-in failed or was throttled (detail: keyed hash prefix of the "
    "attempted name, never the name or password; or the step that failed).",
    "auth.logout": "A user signed out; the session was destroyed.",
    "auth.second_factor_failed": "A second-factor code was refused (detail: during which step).",
    "auth.enrol": "A user enrolled an authenticator app and received recovery codes.",
    "auth.reauth": "A signed-in user re-entered password and code before a sensitive operation.",
    "audit.verify": "The audit chain was verified and found intact.",
    "audit.export_checkpoint": "A signed checkpoint of the audit log was exported.",
    "user.create": "An account was created (detail: role; never the name or password).",
    "user.list": "Accounts were listed with their display names (detail: count).",
    "user.language": "An account's interface language was chosen (detail: the language code).",
    "user.disable": "An account was disabled: no logins or tokens, its sessions ended.",
    "user.enable": "A disabled account was enabled again.",
    "user.reset_mfa": "An account's second factor and recovery codes were forgotten.",
    "user.change_password": "An account's password was changed (never the password itself).",
    "token.create": "An API token was issued (detail: user id, scope, days; never the secret).",
    "token.revoke": "An API token was revoked (detail: user id).",
    "group.create": "A group of accounts was created.",
    "group.delete": "A group was deleted with its grants (detail: member and grant counts).",
    "group.add_member": "An account joined a group (detail: user id).",
    "group.remove_member": "An account left a group (detail: user id).",
    "grant.add": "Access to a case was granted or changed (detail: principal, level).",
    "grant.revoke": "Access to a case was revoked (detail: principal, former level).",
    "evidence.add": "An evidence file or capture was stored: original sealed, shared copy made "
    "(detail: case, incident, kind, sniffed type, shared-copy status).",
    "evidence.read": "An evidence item's description (name, hashes, URL) was shown.",
    "evidence.list": "Evidence items were listed with their names (detail: count, filters).",
    "evidence.custody": "An evidence item's chain of custody was shown (detail: entries).",
    "evidence.read_shared": "The shared copy (metadata removed) of an evidence item was read.",
    "evidence.read_original": "The original of an evidence item, metadata and all, was read.",
    "evidence.export": "A copy of an evidence item was written out of the vault (detail: which "
    "copy).",
    "evidence.verify": "An evidence item's copies were re-hashed against intake and its custody "
    "chain checked (detail: result).",
    "triage.store": "A batch of messages was analysed and stored for a defender (detail: "
    "defender, case, messages, skipped rows, campaigns, model).",
    "triage.list": "Triage batches, or the most urgent messages, were listed (detail: count, "
    "filter names).",
    "triage.read": "A batch's messages were shown, their text included (detail: count, filter "
    "names).",
    "triage.relabel": "A person set the categories of a message (detail: the category codes).",
    "triage.dismiss": "A message was dismissed as needing no action (never the reason).",
    "triage.accept": "A message or a campaign was accepted as an incident with its messages as "
    "evidence (detail: incident, messages, evidence items).",
    "triage.export_relabels": "Relabelled messages, their text included, were written out for "
    "retraining (detail: count).",
    "risk_flag.raise": "A defender was flagged for risk review (detail: the source's kind and "
    "id, never the reason).",
    "risk_flag.list": "Open risk-review flags were listed with the defenders' names (detail: "
    "count).",
    "risk_flag.clear": "A risk-review flag was cleared (never the note).",
    "risk.assess": "A risk assessment version was stored for a defender (detail: assessment, "
    "version, band, computed band, flags cleared).",
    "risk.read": "One risk assessment of a defender was shown (detail: version).",
    "risk.history": "A defender's risk assessments were shown (detail: count).",
    "case.read": "A protection case was shown with its people, measures and check-ins.",
    "case.protection": "A case's protection fields were set (detail: field names).",
    "measure.add": "A preventive or emergency measure was added to a case's plan (detail: kind, "
    "status).",
    "measure.update": "A measure of a protection plan was changed (detail: field names).",
    "urgent.open": "An urgent action was opened (detail: kind).",
    "urgent.step": "A step of an urgent action's checklist was ticked or unticked (detail: step).",
    "urgent.close": "An urgent action was closed (detail: status).",
    "checkin.schedule": "Check-ins were scheduled for a defender (detail: interval, chain length).",
    "checkin.record": "A check-in was recorded (detail: method; escalation stopped).",
    "checkin.link": "A new one-time check-in link was issued (never the link).",
    "checkin.stop": "A check-in schedule was stopped.",
    "checkin.status": "Check-in schedules were shown (detail: count).",
    "checkin.missed": "A check-in was missed and the next step of its chain alerted (detail: "
    "step, notifications).",
    "notification.send": "A notification was delivered (detail: channel, event, attempt).",
    "notification.fail": "A notification attempt failed (detail: channel, attempt, next try or "
    "given up).",
    "notification.prefs": "A user's notification preferences were set (detail: channels).",
    "report.period": "A period report was written (detail: dates, language, format, filter "
    "names; counts only, small ones suppressed).",
    "report.dossier": "A case dossier was written (detail: level of detail shown, format, "
    "language); each record read for it is audited as well.",
    "report.un_communication": "A draft communication to the UN Special Rapporteur was "
    "written from a case, or refused (detail: kind, format, missing facts by code).",
    "intake.keygen": "The first intake key pair was created (its private half wrapped by the "
    "vault).",
    "intake.rotate": "A new intake key became active; the previous one still opens what was "
    "sealed to it (detail: previous key ids).",
    "intake.retire": "An intake key's private half was destroyed (detail: submissions left "
    "undecided).",
    "intake.device_add": "A field device's signing key was registered (its label stays sealed).",
    "intake.device_revoke": "A field device was revoked: its later bundles are quarantined.",
    "intake.device_list": "Field devices were listed with their labels (detail: count).",
    "intake.receive": "A sealed submission arrived through the report form or the API (actor "
    "anonymous; detail: channel, number of files; never its content).",
    "intake.import": "A field bundle was verified and stored sealed (detail: quarantine reason "
    "or no).",
    "intake.list": "The intake inbox was listed, without contents (detail: count).",
    "intake.open": "A sealed submission was decrypted and shown to a reviewer (detail: files).",
    "intake.accept": "A submission became a new incident (detail: incident id; released from "
    "quarantine or not).",
    "intake.link": "A submission was linked to an existing incident or defender (detail: id).",
    "intake.discard": "A submission was discarded with a reason (the reason stays sealed).",
    "archive.export": "The whole registry, keys included, was written to an encrypted archive "
    "(detail: Argon2 cost of the export passphrase); the archive carries this entry.",
    "archive.import": "An archive was restored into this empty vault, which now holds the "
    "source's keys and audit chain (detail: rows, files, entries of this vault replaced).",
    "records.import": "A file of incident records was imported (detail: format, rows, stored, "
    "rejected, mapping used); each stored row also leaves an incident.create entry.",
    "records.validate": "A file of incident records was checked without storing anything "
    "(a dry run; detail: format, rows, rejected, mapping used).",
    "records.export_partner": "Incidents left the vault as a flat CSV for a partner (detail: "
    "count, pseudonymised kinds, how dates, places and free text were treated).",
    "stats.export_public": "A table of counts was produced for publication, small counts "
    "suppressed (detail: dimensions, crosswalk, k, epsilon, scope, cells, suppressed cells, "
    "filter names).",
}
READ_ACTIONS = frozenset(
    {"incident.read", "incident.reveal", "incident.diff", "defender.read", "defender.diff",
     "file.info", "file.read",
     "evidence.read", "evidence.read_shared", "evidence.read_original", "evidence.export",
     "triage.read", "risk.read", "risk.history", "case.read", "report.dossier",
     "report.un_communication", "intake.open"}
)  # fmt: skip
CHECKPOINT_FORMAT = "amparo-audit-checkpoint/1"
ZERO_HASH = b"\x00" * 32
HEAD_KEY = "audit_head"
# Any constant will do: every process appending to this database takes the same lock.
PG_LOCK_ID = 0x616D7061726F  # "amparo"
L = schema.audit_log

_BIDI = frozenset(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0x2028, 0x2029]
)


def _unsafe(code: int) -> bool:
    return code < 0x20 or 0x7F <= code <= 0x9F or code in _BIDI


def encode_field(text: object) -> str:
    """One safe line: backslash doubled; controls, ANSI, bidi marks as ``\\uXXXX``."""
    out = []
    for ch in "" if text is None else str(text):
        if ch == "\\":
            out.append("\\\\")
        elif _unsafe(ord(ch)):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail(detail: str | Mapping[str, object]) -> str:
    if isinstance(detail, str):
        return encode_field(detail)
    parts = []
    for key, value in detail.items():
        if isinstance(value, list | tuple | set | frozenset):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={'' if value is None else value}")
    return encode_field(" ".join(parts))


PAGING = frozenset({"limit", "offset", "after", "sort"})  # how a list is read, not what


def filter_names(query: object) -> list[str]:
    """The names of the filters a query used: their values (a name searched for) may be
    sensitive, so only the names go into ``detail``."""
    fields = getattr(query, "__dict__", {})
    defaults = {name: f.default for name, f in getattr(query, "__dataclass_fields__", {}).items()}
    return sorted(
        k for k, v in fields.items()
        if v not in (None, False, 0, "") and v != defaults.get(k) and k not in PAGING
    )  # fmt: skip


def _iso(at: datetime) -> str:
    return utc(at).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    detail: str
    prev_hash: bytes
    entry_hash: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": _iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "detail": self.detail,
            "entry_hash": self.entry_hash.hex(),
        }


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str


class AuditLog:
    def __init__(
        self,
        store: Store,
        keyring: Keyring,
        *,
        clock: Clock | None = None,
        actor: str | Callable[[], str] = "system",
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.clock = clock or Clock()
        self._actor = actor

    # -- keys ---------------------------------------------------------------------------
    def _chain_key(self) -> bytes:
        return self.keyring.subkey("audit-chain")

    def _signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.keyring.subkey("audit-signing"))

    def public_key_hex(self) -> str:
        raw = (
            self._signing_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return raw.hex()

    def _hash(
        self, seq: int, at: datetime, actor: str, action: str, object_type: str | None,
        object_id: str | None, detail: str, prev_hash: bytes,
    ) -> bytes:  # fmt: skip
        canonical = json.dumps(
            [seq, _iso(at), actor, action, object_type, object_id, detail, bytes(prev_hash).hex()],
            ensure_ascii=True,
            separators=(",", ":"),
        ).encode()
        return hmac.new(self._chain_key(), canonical, hashlib.sha256).digest()

    def _head_mac(self, seq: int, entry_hash: bytes) -> str:
        message = f"audit-head:{seq}:{entry_hash.hex()}".encode()
        return hmac.new(self._chain_key(), message, hashlib.sha256).hexdigest()

    def _read_head(self, conn: Connection) -> tuple[int, bytes] | str | None:
        """(seq, hash) of the recorded head; None if absent; a reason if not authentic."""
        value = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == HEAD_KEY))
        text = value.scalar()
        if text is None:
            return None
        try:
            seq_text, hash_hex, mac = str(text).split(":")
            seq, entry_hash = int(seq_text), bytes.fromhex(hash_hex)
        except ValueError:
            return "the recorded head is malformed"
        if not hmac.compare_digest(mac, self._head_mac(seq, entry_hash)):
            return "the recorded head is not authentic"
        return seq, entry_hash

    # -- writing ------------------------------------------------------------------------
    def record(
        self,
        conn: Connection,
        action: str,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        detail: str | Mapping[str, object] = "",
        actor: str | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction; returns its seq."""
        return self.record_many(conn, action, [(object_type, object_id, detail)], actor=actor)

    def record_many(
        self,
        conn: Connection,
        action: str,
        items: list[tuple[str | None, str | None, str | Mapping[str, object]]],
        *,
        actor: str | None = None,
    ) -> int:
        """Append one entry per (object_type, object_id, detail); returns the last seq."""
        who = self._checked(action, actor)
        seqs = self._append(conn, [(action, who, t, i, d) for t, i, d in items])
        return seqs[-1] if seqs else self._tail(conn)[0]

    def record_alone(
        self,
        action: str,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        detail: str | Mapping[str, object] = "",
        actor: str | None = None,
    ) -> int:
        """Append one entry in a transaction of its own, shared with the entries other
        threads append at the same moment (amparo.store.group_commit): returns once it is
        committed, like a transaction of its own, at a share of one commit's cost."""
        item: _Item = (action, self._checked(action, actor), object_type, object_id, detail)
        seq: int = self.store.grouped("audit", self._append).submit(item)
        return seq

    def _append(self, conn: Connection, items: Sequence[_Item]) -> list[int]:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_ID})
        seq, prev = self._tail(conn)
        at = self.clock.now()
        rows, seqs = [], []
        for action, actor, object_type, object_id, detail in items:
            seq += 1
            who = _fit(encode_field(actor), 120)
            kind = None if object_type is None else _fit(encode_field(object_type), 40)
            oid = None if object_id is None else _fit(encode_field(object_id), 64)
            text = _detail(detail)
            entry_hash = self._hash(seq, at, who, action, kind, oid, text, prev)
            values = {
                "seq": seq, "at": at, "actor": who, "action": action, "object_type": kind,
                "object_id": oid, "detail": text, "prev_hash": prev, "entry_hash": entry_hash,
            }  # fmt: skip
            prev = entry_hash
            rows.append(values)
            seqs.append(seq)
        if rows:
            conn.execute(sa.insert(L), rows)
            self._write_head(conn, seq, prev)
        return seqs

    def _checked(self, action: str, actor: str | None) -> str:
        """Who an entry names; refuses an action the log does not know."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        return actor if actor is not None else self._actor_now()

    def _actor_now(self) -> str:
        return self._actor() if callable(self._actor) else self._actor

    def _tail(self, conn: Connection) -> tuple[int, bytes]:
        """Continue from the recorded head, or the last row, whichever is further on."""
        last = conn.execute(sa.select(L.c.seq, L.c.entry_hash).order_by(L.c.seq.desc()).limit(1))
        row = last.first()
        tail = (0, ZERO_HASH) if row is None else (int(row.seq), bytes(row.entry_hash))
        head = self._read_head(conn)
        if isinstance(head, tuple) and head[0] >= tail[0]:
            return head  # a truncated tail stays a visible gap
        return tail

    def _write_head(self, conn: Connection, seq: int, entry_hash: bytes) -> None:
        value = f"{seq}:{entry_hash.hex()}:{self._head_mac(seq, entry_hash)}"
        meta = schema.meta
        updated = conn.execute(sa.update(meta).where(meta.c.key == HEAD_KEY).values(value=value))
        if not updated.rowcount:
            conn.execute(sa.insert(meta), [{"key": HEAD_KEY, "value": value}])

    # -- reading ------------------------------------------------------------------------
    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        object_id: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        stmt = sa.select(L).order_by(L.c.seq)
        if actor is not None:
            stmt = stmt.where(L.c.actor == encode_field(actor))
        if action is not None:
            stmt = stmt.where(L.c.action == action)
        if since is not None:
            stmt = stmt.where(L.c.at >= utc(since))
        if object_id is not None:
            stmt = stmt.where(L.c.object_id == object_id)
        if limit is not None:
            # The newest ``limit`` entries, still shown oldest first.
            stmt = stmt.order_by(None).order_by(L.c.seq.desc()).limit(limit)
        with self.store.read() as conn:
            out = [_entry(row) for row in conn.execute(stmt)]
        return sorted(out, key=lambda e: e.seq)

    def who_has_seen(self, object_id: str) -> list[tuple[str, datetime, str]]:
        stmt = (
            sa.select(L.c.actor, L.c.at, L.c.action)
            .where(L.c.object_id == object_id, L.c.action.in_(sorted(READ_ACTIONS)))
            .order_by(L.c.seq)
        )
        with self.store.read() as conn:
            return [(r.actor, utc(r.at), r.action) for r in conn.execute(stmt)]

    def _rows(self, conn: Connection, batch: int = 1000) -> Iterator[AuditEntry]:
        after = -1
        while True:
            rows = conn.execute(
                sa.select(L).where(L.c.seq > after).order_by(L.c.seq).limit(batch)
            ).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            after = int(rows[-1].seq)

    # -- verifying ----------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        with self.store.read() as conn:
            return self._verify(conn)

    def _verify(self, conn: Connection) -> VerifyResult:
        expected, prev, checked = 1, ZERO_HASH, 0
        for e in self._rows(conn):
            if e.seq != expected:
                return _bad(checked, expected, f"missing (the next entry is seq {e.seq})")
            actual = self._hash(
                e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.detail, e.prev_hash
            )
            if not hmac.compare_digest(actual, e.entry_hash):
                return _bad(checked, e.seq, "its content does not match its hash (modified)")
            if not hmac.compare_digest(e.prev_hash, prev):
                return _bad(
                    checked, e.seq, "it does not follow the entry before it "
                    "(deleted, reordered or rewritten entries)",
                )  # fmt: skip
            prev, expected, checked = e.entry_hash, expected + 1, checked + 1
        last = expected - 1
        head = self._read_head(conn)
        if isinstance(head, str):
            return _bad(checked, last + 1, head)
        if head is None:
            if last:
                return _bad(checked, last + 1, "the log has entries but no recorded head")
            return VerifyResult(True, 0, None, "the log is empty")
        head_seq, head_hash = head
        if head_seq > last:
            return _bad(
                checked, last + 1, f"missing: the log ends at seq {last} but its recorded "
                f"head is seq {head_seq} (truncated)",
            )  # fmt: skip
        if head_seq == last and not hmac.compare_digest(head_hash, prev):
            return _bad(checked, last, "it does not match the recorded head")
        if head_seq < last:
            return _bad(checked, head_seq + 1, "it lies beyond the recorded head (appended "
                        "outside Amparo)")  # fmt: skip
        return VerifyResult(True, checked, None, f"{checked} entries intact")

    # -- checkpoints --------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        """A signed tree head to keep off the machine (``verify_checkpoint`` checks it)."""
        with self.store.read() as conn:
            row = conn.execute(
                sa.select(L.c.seq, L.c.entry_hash).order_by(L.c.seq.desc()).limit(1)
            ).first()
        seq, entry_hash = (0, ZERO_HASH) if row is None else (int(row.seq), bytes(row.entry_hash))
        body: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "vault_id": self.keyring.vault_id,
            "seq": seq,
            "entry_hash": entry_hash.hex(),
            "at": _iso(self.clock.now()),
            "public_key": self.public_key_hex(),
        }
        body["signature"] = self._signing_key().sign(_signed_bytes(body)).hex()
        return body

    def verify_checkpoint(self, doc: Mapping[str, Any]) -> VerifyResult:
        try:
            seq = int(doc["seq"])
            entry_hash = bytes.fromhex(str(doc["entry_hash"]))
            signature = bytes.fromhex(str(doc["signature"]))
            public = bytes.fromhex(str(doc["public_key"]))
            if doc.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(doc.get("format"))
        except (KeyError, TypeError, ValueError):
            return VerifyResult(False, 0, None, "the checkpoint is not an Amparo checkpoint")
        if doc.get("vault_id") != self.keyring.vault_id:
            return VerifyResult(False, 0, None, "the checkpoint belongs to another vault")
        if not hmac.compare_digest(public.hex(), self.public_key_hex()):
            return VerifyResult(False, 0, None, "the checkpoint was not signed by this vault")
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, _signed_bytes(doc))
        except (InvalidSignature, ValueError):
            return VerifyResult(False, 0, None, "the checkpoint's signature is not valid")
        with self.store.read() as conn:
            result = self._verify(conn)
            if not result.ok:
                return result
            if seq == 0:
                return result
            row = conn.execute(sa.select(L.c.entry_hash).where(L.c.seq == seq)).first()
        if row is None:
            return _bad(result.checked, seq, "missing: the checkpoint covers it (truncated)")
        if not hmac.compare_digest(bytes(row.entry_hash), entry_hash):
            return _bad(
                result.checked, seq, "it differs from the checkpoint: history up to here was "
                "rewritten",
            )  # fmt: skip
        return VerifyResult(True, result.checked, None, f"{result.checked} entries intact; "
                            f"checkpoint at seq {seq} matches")  # fmt: skip


def _signed_bytes(doc: Mapping[str, Any]) -> bytes:
    body = {k: doc[k] for k in sorted(doc) if k != "signature"}
    return json.dumps(body, ensure_ascii=True, sort_keys=True, separators=(",", ":")).encode()


def _bad(checked: int, seq: int, reason: str) -> VerifyResult:
    return VerifyResult(False, checked, seq, reason)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        at=utc(row.at),
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        detail=row.detail,
        prev_hash=bytes(row.prev_hash),
        entry_hash=bytes(row.entry_hash),
    )


def render_actions() -> str:
    """The action table for docs/audit.md."""
    lines = ["| Action | Meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {text} |" for name, text in ACTIONS.items()]
    return "\n".join(lines) + "\n"


def rewrite_actions_table(text: str) -> str:
    """``text`` (docs/audit.md) with its action table replaced by the current one."""
    start = text.index("| Action | Meaning |")
    end = text.find("\n\n", start)
    end = len(text) if end == -1 else end + 1
    return text[:start] + render_actions() + text[end:]


if __name__ == "__main__":  # pragma: no cover - `python -m amparo.audit [docs/audit.md]`
    import sys
    from pathlib import Path

    if len(sys.argv) > 1:
        page = Path(sys.argv[1])
        page.write_text(rewrite_actions_table(page.read_text("utf-8")), encoding="utf-8")
    else:
        print(render_actions(), end="")
