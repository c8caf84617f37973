"""Online-abuse triage in the vault: batches kept for a defender, reviewed, made into incidents.

A batch is a file of messages aimed at one defender (a platform export, a partner's scrape, a
spreadsheet). It is read (amparo.triage.ingest), analysed (amparo.triage.analyse), searched
for campaigns (amparo.triage.campaigns) and stored in one transaction, in the defender's
case: who may see the defender may see the batch (``read_identity`` on her case), and who may
write in her case (``triage``) may act on it, a trusted colleague on her behalf included.

Each message keeps its original text, author, address and what quotes them (reasons,
doxxing findings) as ciphertext, with the SHA-256 of the text taken at intake. Reviewing is
relabelling (the categories a person judged right, kept for retraining), dismissing (with a
reason) or accepting: a message or a whole campaign becomes an incident whose victim is the
defender, its messages attached as evidence captures, and the defender is flagged for risk
review. Accepting is idempotent and resumable: a claim on the row stops a second incident,
and an accept interrupted half-way finishes the next time it is asked.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.services.lookup import resolve_prefix
from amparo.services.sealing import CaseSealer, defender_name, sealer_for
from amparo.services.triage_records import (
    ACT_TYPES,
    act_types_for,
    campaign_incident,
    capture_page,
    labels,
    message_incident,
)
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.triage.analyse import Triage

__all__ = [
    "ACT_TYPES",
    "CATEGORIES",
    "MAX_BATCH_BYTES",
    "STATUSES",
    "AcceptResult",
    "BatchSummary",
    "MessageFilter",
    "StoredBatch",
    "StoredCampaign",
    "TriageMessage",
    "TriageService",
    "act_types_for",
]

B = schema.triage_batches
M = schema.triage_messages
C = schema.triage_campaigns
D = schema.defenders
CATEGORIES = ("threat", "sexual_harassment", "sexist_derogation", "smear", "doxxing", "none")
STATUSES = ("new", "relabelled", "dismissed", "accepted")
MAX_BATCH_BYTES = 50 * 1024 * 1024  # a million short messages; the file is held in memory
MAX_REASON = 2_000
ACCEPT_CLAIM = timedelta(minutes=10)  # an accept that held its claim longer has died
URGENT = 50  # the dashboard's "urgent": at least this urgency
INSERT_CHUNK = 1_000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class MessageFilter:
    category: str | None = None  # the person's categories where relabelled, else the model's
    status: str | None = None
    min_urgency: int | None = None
    campaign_id: str | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class BatchSummary:
    id: str
    case_id: str
    defender_id: str
    defender_name: str
    source_name: str
    messages: int
    skipped: int
    abusive: int
    campaigns: int
    model_id: str
    created_at: datetime
    created_by: str
    unreviewed: int = 0  # abusive messages nobody has reviewed yet

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "defender_id": self.defender_id,
            "defender_name": self.defender_name, "source_name": self.source_name,
            "messages": self.messages, "skipped": self.skipped, "abusive": self.abusive,
            "campaigns": self.campaigns, "unreviewed": self.unreviewed,
            "model_id": self.model_id, "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }  # fmt: skip


@dataclass(frozen=True)
class StoredBatch:
    batch: BatchSummary
    skipped: builtins.list[str]  # "row 4, column 'text': is empty"


@dataclass(frozen=True)
class TriageMessage:
    id: str
    batch_id: str
    case_id: str
    campaign_id: str | None
    row: int
    source_id: str
    text: str
    text_sha256: str
    author: str | None
    url: str | None
    reply_to: str | None
    platform: str | None
    posted_at: datetime | None
    language: str
    urgency: int
    model_categories: builtins.list[str]
    scores: dict[str, float]
    model_scores: dict[str, float]
    reasons: builtins.list[str]
    doxxing: builtins.list[dict[str, str]]
    model_id: str
    status: str
    relabel: builtins.list[str] | None
    relabelled_at: datetime | None
    relabelled_by: str | None
    dismiss_reason: str | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    incident_id: str | None
    evidence_id: str | None

    @property
    def categories(self) -> builtins.list[str]:
        """What a person judged, where someone did; the model's reading otherwise."""
        return self.relabel if self.relabel is not None else self.model_categories

    def to_dict(self) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return {
            "id": self.id, "batch_id": self.batch_id, "campaign_id": self.campaign_id,
            "row": self.row, "source_id": self.source_id, "urgency": self.urgency,
            "categories": self.categories, "model_categories": self.model_categories,
            "status": self.status, "language": self.language, "author": self.author,
            "posted_at": iso(self.posted_at), "platform": self.platform, "url": self.url,
            "reply_to": self.reply_to, "scores": self.scores, "model_scores": self.model_scores,
            "reasons": self.reasons, "doxxing": self.doxxing, "model": self.model_id,
            "relabel": self.relabel, "relabelled_at": iso(self.relabelled_at),
            "relabelled_by": self.relabelled_by, "dismiss_reason": self.dismiss_reason,
            "reviewed_at": iso(self.reviewed_at), "reviewed_by": self.reviewed_by,
            "incident_id": self.incident_id, "evidence_id": self.evidence_id,
            "text_sha256": self.text_sha256, "text": self.text,
        }  # fmt: skip


@dataclass(frozen=True)
class StoredCampaign:
    id: str
    batch_id: str
    case_id: str
    rank: int
    score: float
    similarity: float
    members: builtins.list[str]  # message ids, in time order
    accounts: int
    authors: builtins.list[str]
    start: datetime | None
    end: datetime | None
    representative_id: str | None
    representative: str
    reasons: builtins.list[str]
    status: str
    incident_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "batch_id": self.batch_id, "rank": self.rank, "score": self.score,
            "similarity": self.similarity, "messages": len(self.members),
            "accounts": self.accounts, "authors": self.authors,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "reasons": self.reasons, "representative": self.representative,
            "members": self.members, "status": self.status, "incident_id": self.incident_id,
        }  # fmt: skip


@dataclass(frozen=True)
class AcceptResult:
    incident_id: str
    created: bool  # False: it had been accepted already, nothing new was made
    messages: int
    evidence: builtins.list[str] = field(default_factory=list)
    flag_id: str | None = None


class TriageService:
    def __init__(self, registry: Registry, engine: Triage | None = None) -> None:
        self.r = registry
        self._engine = engine

    # -- storing a batch ------------------------------------------------------------------
    def engine(self, rules_only: bool = False, screen: bool = True) -> Triage:
        """The engine to read a batch with: rules only, or the models; without ``screen``,
        task A's transformer reads every post (amparo.triage.screen: slower, and it flags
        about 0.5 % more of the sexist posts on EDOS)."""
        from amparo.triage.analyse import Triage

        if rules_only:
            return Triage.load(None)
        if self._engine is None:
            self._engine = _shipped_engine()
        return self._engine if screen else replace(self._engine, screen=None)

    def ingest(
        self,
        defender_id: str,
        source: Path | bytes,
        *,
        name: str | None = None,
        fmt: str | None = None,
        mapping: Mapping[str, str] | None = None,
        rules_only: bool = False,
        screen: bool = True,
        progress: Progress | None = None,
    ) -> StoredBatch:
        """Read, analyse and store a batch for ``defender_id``; rows that cannot be read are
        skipped and reported by row and column, and nothing at all is stored when no row can
        be read or any step fails."""
        from amparo.triage.campaigns import Post, detect
        from amparo.triage.ingest import IngestError, read_messages

        label = name or (source.name if isinstance(source, Path) else "batch")
        defender = self._defender(defender_id)
        self.r.require_in_case("triage", "defender", defender_id, defender.case_id)
        if defender.merged_into:
            raise ValidationError("defender", f"defender {defender_id} was merged into "
                                  f"{defender.merged_into}: store the batch there")  # fmt: skip
        data = source.read_bytes() if isinstance(source, Path) else source
        if len(data) > MAX_BATCH_BYTES:
            raise ValidationError("file", f"{label} is larger than {MAX_BATCH_BYTES:,} bytes")
        try:
            read = read_messages(
                data, fmt=fmt or _format_of(label), mapping=mapping, name=label,
                progress=(lambda n: progress("read", n, 0)) if progress else None,
            )  # fmt: skip
        except IngestError as exc:
            raise ValidationError("file", str(exc)) from None
        skipped = [str(s) for s in read.skipped]
        if not read.messages:
            shown = "; ".join(skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
            raise ValidationError("file", f"{label}: no message could be read ({shown})")
        messages = read.messages
        engine = self.engine(rules_only, screen)
        keys = [str(i) for i in range(len(messages))]
        results = engine.analyse(keys, [m.text for m in messages], progress=progress)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        posts = [Post(keys[i], m.author or f"unknown-{m.row}", m.created_at or epoch, m.text)
                 for i, m in enumerate(messages)]  # fmt: skip
        found = detect(posts, progress=progress)

        now = self.r.clock.now()
        batch_id = self.r.new_id()
        ids = [self.r.new_id() for _ in messages]
        campaign_of: dict[int, str] = {}
        campaign_rows = []
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, defender.case_id)
        for rank, campaign in enumerate(found, start=1):
            campaign_id = self.r.new_id()
            members = [int(k) for k in campaign.members]
            for i in members:
                campaign_of[i] = campaign_id
            representative = next(
                (i for i in members if messages[i].text == campaign.representative), members[0]
            )
            campaign_rows.append({
                "id": campaign_id, "batch_id": batch_id, "case_id": defender.case_id,
                "rank": rank, "score": float(campaign.score),
                "similarity": float(campaign.similarity), "members": len(members),
                "accounts": len(campaign.authors),
                "start_at": None if campaign.start == epoch else campaign.start,
                "end_at": None if campaign.end == epoch else campaign.end,
                "representative_id": ids[representative],
                "reasons_ct": sealer.seal_json("triage_campaigns", campaign_id, "reasons", 0,
                                               list(campaign.reasons)),
                "authors_ct": sealer.seal_json("triage_campaigns", campaign_id, "authors", 0,
                                               list(campaign.authors)),
                "status": "new", "incident_id": None, "accepting_since": None,
                "reviewed_at": None, "reviewed_by": None,
            })  # fmt: skip
        rows = []
        for i, (message, result) in enumerate(zip(messages, results, strict=True)):
            mid = ids[i]

            def seal(field: str, value: str | None, mid: str = mid) -> bytes | None:
                return sealer.seal("triage_messages", mid, field, 0, value)

            rows.append({
                "id": mid, "batch_id": batch_id, "case_id": defender.case_id,
                "campaign_id": campaign_of.get(i), "row": message.row,
                "source_id_ct": seal("source_id", message.id),
                "text_ct": seal("text", message.text),
                "text_sha256_ct": seal("text_sha256", _sha256(message.text)),
                "author_ct": seal("author", message.author), "url_ct": seal("url", message.url),
                "reply_to_ct": seal("reply_to", message.reply_to),
                "platform": (message.platform or "")[:40] or None,
                "posted_at": message.created_at, "language": result.language[:8],
                "urgency": int(result.urgency),
                "categories": schema.codes_column(list(result.categories)),
                "scores": json.dumps(result.scores, sort_keys=True),
                "model_scores": json.dumps(result.model_scores, sort_keys=True),
                "reasons_ct": sealer.seal_json("triage_messages", mid, "reasons", 0,
                                               list(result.reasons)),
                "doxxing_ct": sealer.seal_json(
                    "triage_messages", mid, "doxxing", 0,
                    [{"kind": f.kind, "masked": f.masked} for f in result.doxxing],
                ),
                "model_id": result.model_id[:400], "status": "new", "relabel": None,
                "relabelled_at": None, "relabelled_by": None, "dismiss_reason_ct": None,
                "reviewed_at": None, "reviewed_by": None, "incident_id": None,
                "evidence_id": None, "accepting_since": None,
            })  # fmt: skip
        abusive = sum(1 for r in results if r.categories != ["none"])
        batch_row = {
            "id": batch_id, "case_id": defender.case_id, "defender_id": defender_id,
            "source_name_ct": sealer.seal("triage_batches", batch_id, "source_name", 0, label),
            "skipped_ct": sealer.seal_json("triage_batches", batch_id, "skipped", 0, skipped),
            "messages": len(messages), "skipped": len(skipped), "abusive": abusive,
            "campaigns": len(campaign_rows), "model_id": engine.model_id[:400],
            "created_at": now, "created_by": self.r.actor,
        }  # fmt: skip
        with self.r.store.write() as conn:
            conn.execute(sa.insert(B), [batch_row])
            if campaign_rows:
                conn.execute(sa.insert(C), campaign_rows)
            for start in range(0, len(rows), INSERT_CHUNK):
                conn.execute(sa.insert(M), rows[start : start + INSERT_CHUNK])
                if progress:
                    progress("store", min(start + INSERT_CHUNK, len(rows)), len(rows))
            self.r.audit.record(
                conn, "triage.store", object_type="triage_batch", object_id=batch_id,
                detail={"defender": defender_id, "case": defender.case_id,
                        "messages": len(messages), "skipped": len(skipped),
                        "campaigns": len(campaign_rows), "model": engine.model_id[:120]},
            )  # fmt: skip
        summary = BatchSummary(
            id=batch_id, case_id=defender.case_id, defender_id=defender_id,
            defender_name=defender.name, source_name=label, messages=len(messages),
            skipped=len(skipped), abusive=abusive, campaigns=len(campaign_rows),
            model_id=engine.model_id, created_at=utc(now), created_by=self.r.actor,
            unreviewed=abusive,
        )  # fmt: skip
        return StoredBatch(summary, skipped)

    # -- reading --------------------------------------------------------------------------
    def resolve(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, B, _checked_id(id_or_prefix, "batch"), "triage batch")

    def resolve_message(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, M, _checked_id(id_or_prefix, "message"), "message")

    def resolve_campaign(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, C, _checked_id(id_or_prefix, "campaign"), "campaign")

    def batches(
        self, *, defender_id: str | None = None, limit: int | None = None
    ) -> builtins.list[BatchSummary]:
        """Batches the principal may see, newest first (one audit entry per call)."""
        out = self._batches(defender_id=defender_id, limit=limit)
        with self.r.store.write() as conn:
            self.r.audit.record(
                conn, "triage.list", object_type="triage_batch",
                detail={"count": len(out), "filters": ["defender"] if defender_id else []},
            )  # fmt: skip
        return out

    def batch(self, batch_id: str) -> BatchSummary:
        row = self._batch_row(batch_id)
        (summary,) = self._batches(batch_ids=[row.id])
        return summary

    def skipped_rows(self, batch_id: str) -> builtins.list[str]:
        row = self._batch_row(batch_id)
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
        return list(sealer.open_json("triage_batches", row.id, "skipped", 0, row.skipped_ct) or [])

    def messages(
        self, batch_id: str, query: MessageFilter | None = None
    ) -> builtins.list[TriageMessage]:
        """A batch's messages, most urgent first, text and all (the read is audited)."""
        q = query or MessageFilter()
        if q.category is not None and q.category not in CATEGORIES:
            raise ValidationError("category", f"must be one of {', '.join(CATEGORIES)}")
        if q.status is not None and q.status not in STATUSES:
            raise ValidationError("status", f"must be one of {', '.join(STATUSES)}")
        if q.min_urgency is not None and not 0 <= q.min_urgency <= 100:
            raise ValidationError("min_urgency", "must be between 0 and 100")
        row = self._batch_row(batch_id)
        stmt = sa.select(M).where(M.c.batch_id == row.id)
        if q.category is not None:
            stmt = stmt.where(
                sa.func.coalesce(M.c.relabel, M.c.categories).contains(f",{q.category},",
                                                                       autoescape=True)
            )  # fmt: skip
        if q.status is not None:
            stmt = stmt.where(M.c.status == q.status)
        if q.min_urgency is not None:
            stmt = stmt.where(M.c.urgency >= q.min_urgency)
        if q.campaign_id is not None:
            stmt = stmt.where(M.c.campaign_id == q.campaign_id)
        stmt = stmt.order_by(M.c.urgency.desc(), M.c.row, M.c.id)
        if q.limit is not None:
            stmt = stmt.limit(q.limit).offset(q.offset)
        with self.r.store.read() as conn:  # decrypted outside the write lock: batches are big
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            out = [_message(sealer, m) for m in conn.execute(stmt).all()]
        filters = [k for k in ("category", "status", "min_urgency", "campaign_id")
                   if getattr(q, k) is not None]  # fmt: skip
        with self.r.store.write() as conn:
            self.r.audit.record(conn, "triage.read", object_type="triage_batch",
                                object_id=row.id,
                                detail={"count": len(out), "filters": filters})  # fmt: skip
        return out

    def message(self, message_id: str) -> TriageMessage:
        row = self._message_row(message_id, "read_identity")
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
        return _message(sealer, row)

    def campaigns(self, batch_id: str) -> builtins.list[StoredCampaign]:
        """A batch's campaigns, strongest first, with their member ids."""
        row = self._batch_row(batch_id)
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            members: dict[str, builtins.list[str]] = {}
            for mid, cid in conn.execute(
                sa.select(M.c.id, M.c.campaign_id)
                .where(M.c.batch_id == row.id, M.c.campaign_id.is_not(None))
                .order_by(M.c.posted_at, M.c.row)
            ):
                members.setdefault(cid, []).append(mid)
            rows = conn.execute(sa.select(C).where(C.c.batch_id == row.id).order_by(C.c.rank))
            out = []
            for c in rows.all():
                text = ""
                if c.representative_id:
                    rep = conn.execute(
                        sa.select(M.c.id, M.c.text_ct).where(M.c.id == c.representative_id)
                    ).first()
                    if rep is not None:
                        text = sealer.open("triage_messages", rep.id, "text", 0, rep.text_ct) or ""
                out.append(_campaign(sealer, c, members.get(c.id, []), text))
        return out

    def urgent(self, limit: int = 10) -> builtins.list[TriageMessage]:
        """The most urgent messages nobody has reviewed, in every batch the principal may
        see (the dashboard); one audit entry."""
        visible = self.r.visible_cases()
        out: builtins.list[TriageMessage] = []
        with self.r.store.write() as conn:
            if visible is None or visible:
                stmt = sa.select(M).where(
                    M.c.status == "new", M.c.urgency >= URGENT,
                    M.c.categories != schema.codes_column(["none"]),
                )  # fmt: skip
                if visible is not None:
                    stmt = stmt.where(in_cases(M.c.case_id, visible, conn.dialect.name))
                stmt = stmt.order_by(M.c.urgency.desc(), M.c.id).limit(limit)
                for row in conn.execute(stmt).all():
                    out.append(_message(sealer_for(conn, self.r.keyring, row.case_id), row))
            self.r.audit.record(conn, "triage.list", object_type="triage_message",
                                detail={"count": len(out), "filters": ["urgent"]})  # fmt: skip
        return out

    def export_relabels(self) -> Iterator[dict[str, Any]]:
        """Every message a person relabelled, in the cases the principal may export from, as
        training examples (text and the categories judged right); one audit entry."""
        visible = self.r.visible_cases("export")
        rows: builtins.list[Row[Any]] = []
        with self.r.store.write() as conn:
            if visible is None or visible:
                stmt = sa.select(M).where(M.c.relabel.is_not(None))
                if visible is not None:
                    stmt = stmt.where(in_cases(M.c.case_id, visible, conn.dialect.name))
                rows = list(conn.execute(stmt.order_by(M.c.relabelled_at, M.c.id)).all())
            self.r.audit.record(conn, "triage.export_relabels", object_type="triage_message",
                                detail={"count": len(rows)})  # fmt: skip
        sealers: dict[str, CaseSealer] = {}
        for row in rows:
            if row.case_id not in sealers:
                with self.r.store.read() as conn:
                    sealers[row.case_id] = sealer_for(conn, self.r.keyring, row.case_id)
            m = _message(sealers[row.case_id], row)
            yield {
                "id": m.id, "text": m.text, "categories": m.categories,
                "model_categories": m.model_categories, "language": m.language,
                "model": m.model_id, "status": m.status,
                "relabelled_at": None if m.relabelled_at is None else m.relabelled_at.isoformat(),
            }  # fmt: skip

    # -- reviewing ------------------------------------------------------------------------
    def relabel(self, message_id: str, categories: Sequence[str]) -> TriageMessage:
        """Set the categories a person judged right (kept beside the model's, for training)."""
        chosen = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
        if not chosen:
            raise ValidationError("categories", "choose at least one category (or 'none')")
        unknown = [c for c in chosen if c not in CATEGORIES]
        if unknown:
            raise ValidationError("categories", f"unknown: {', '.join(unknown)}; categories are "
                                  f"{', '.join(CATEGORIES)}")  # fmt: skip
        if "none" in chosen and len(chosen) > 1:
            raise ValidationError("categories", "'none' cannot go with another category")
        row = self._message_row(message_id, "triage")
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            conn.execute(sa.update(M).where(M.c.id == row.id).values(
                relabel=schema.codes_column(chosen), relabelled_at=now,
                relabelled_by=self.r.actor, reviewed_at=now, reviewed_by=self.r.actor,
                status="relabelled" if row.status == "new" else row.status,
            ))  # fmt: skip
            self.r.audit.record(conn, "triage.relabel", object_type="triage_message",
                                object_id=row.id,
                                detail={"categories": " ".join(chosen)})  # fmt: skip
        return self.message(row.id)

    def dismiss(self, message_id: str, reason: str) -> TriageMessage:
        """Needs no action: the reason is kept (encrypted) and the message leaves the queue."""
        text = (reason or "").strip()
        if not text:
            raise ValidationError("reason", "say why the message needs no action")
        if len(text) > MAX_REASON or "\x00" in text:
            raise ValidationError("reason", f"must be at most {MAX_REASON} characters")
        row = self._message_row(message_id, "triage")
        if row.status == "accepted":
            raise Conflict(f"message {row.id} was accepted as incident {row.incident_id}")
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            conn.execute(sa.update(M).where(M.c.id == row.id).values(
                status="dismissed", reviewed_at=now, reviewed_by=self.r.actor,
                dismiss_reason_ct=sealer.seal("triage_messages", row.id, "dismiss_reason", 0,
                                              text),
            ))  # fmt: skip
            self.r.audit.record(conn, "triage.dismiss", object_type="triage_message",
                                object_id=row.id)  # fmt: skip
        return self.message(row.id)

    # -- from triage to protection --------------------------------------------------------
    def accept(self, message_id: str, *, country: str | None = None) -> AcceptResult:
        """Make a message an incident (victim: the defender; the message as evidence) and
        flag the defender for risk review. Asked again, it returns the same incident."""
        row = self._message_row(message_id, "triage")
        if row.status == "accepted" and row.incident_id:
            return AcceptResult(row.incident_id, False, 1)
        return self._accept("message", row.id, row, [row.id], country)

    def accept_campaign(self, campaign_id: str, *, country: str | None = None) -> AcceptResult:
        """Make a whole campaign one incident, its messages the evidence (see ``accept``)."""
        campaign = self._campaign_row(campaign_id, "triage")
        if campaign.status == "accepted" and campaign.incident_id:
            return AcceptResult(campaign.incident_id, False, int(campaign.members))
        with self.r.store.read() as conn:
            members = [r[0] for r in conn.execute(
                sa.select(M.c.id).where(M.c.campaign_id == campaign.id)
                .order_by(M.c.posted_at, M.c.row)
            )]  # fmt: skip
        return self._accept("campaign", campaign.id, campaign, members, country)

    def _accept(
        self, kind: str, target_id: str, target: Row[Any], member_ids: builtins.list[str],
        country: str | None,
    ) -> AcceptResult:  # fmt: skip
        table = M if kind == "message" else C
        batch = self._batch_row(target.batch_id)
        defender = self._defender(batch.defender_id)
        incident_id: str | None = target.incident_id
        created = False
        if incident_id is None:
            self._claim(table, target_id)
            try:
                with self.r.store.read() as conn:
                    sealer = sealer_for(conn, self.r.keyring, batch.case_id)
                    members = [_message(sealer, r) for r in conn.execute(
                        sa.select(M).where(M.c.id.in_(member_ids))
                        .order_by(M.c.posted_at, M.c.row)
                    ).all()]  # fmt: skip
                where = self._country(defender, country)
                if kind == "message":
                    record = message_incident(members[0], batch, defender.id, defender.name,
                                              where)  # fmt: skip
                else:
                    stored = self.campaigns(batch.id)
                    campaign = next(c for c in stored if c.id == target_id)
                    record = campaign_incident(campaign, members, batch, defender.id,
                                               defender.name, where)  # fmt: skip
                incident = self.r.incidents.add(record, case_id=batch.case_id)
            except BaseException:
                with self.r.store.write() as conn:
                    conn.execute(sa.update(table).where(table.c.id == target_id)
                                 .values(accepting_since=None))  # fmt: skip
                raise
            assert incident.id
            incident_id = incident.id
            created = True
            with self.r.store.write() as conn:
                conn.execute(sa.update(table).where(table.c.id == target_id)
                             .values(incident_id=incident_id))  # fmt: skip
        # Evidence: each message not yet attached (an interrupted accept resumes here).
        evidence: builtins.list[str] = []
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, batch.case_id)
            members = [_message(sealer, r) for r in conn.execute(
                sa.select(M).where(M.c.id.in_(member_ids)).order_by(M.c.posted_at, M.c.row)
            ).all()]  # fmt: skip
        batch_name = sealer.open("triage_batches", batch.id, "source_name", 0,
                                 batch.source_name_ct) or ""  # fmt: skip
        for m in members:
            if m.evidence_id is not None or (m.incident_id not in (None, incident_id)):
                continue  # attached already, or the evidence of an incident of its own
            item_id = self._capture(m, batch, batch_name, incident_id)
            evidence.append(item_id)
            with self.r.store.write() as conn:
                conn.execute(sa.update(M).where(M.c.id == m.id).values(evidence_id=item_id))
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            attached = [m.id for m in members if m.incident_id in (None, incident_id)]
            for start in range(0, len(attached), INSERT_CHUNK):
                conn.execute(sa.update(M).where(M.c.id.in_(attached[start : start + 1000]))
                             .values(status="accepted", incident_id=incident_id, reviewed_at=now,
                                     reviewed_by=self.r.actor, accepting_since=None))  # fmt: skip
            if kind == "campaign":
                conn.execute(sa.update(C).where(C.c.id == target_id).values(
                    status="accepted", incident_id=incident_id, reviewed_at=now,
                    reviewed_by=self.r.actor, accepting_since=None))  # fmt: skip
            sealer = sealer_for(conn, self.r.keyring, batch.case_id)
            names = labels([c for m in members for c in m.categories])
            urgency = max((m.urgency for m in members), default=0)
            what = f"a campaign of {len(members)} messages" if kind == "campaign" else "a message"
            reason = (f"Online abuse accepted from triage: {what} ({', '.join(names)}; "
                      f"urgency {urgency}), incident {incident_id}.")  # fmt: skip
            flag_id = self.r.risk_flags.raise_in(
                conn, sealer, defender_id=batch.defender_id, source_kind=f"triage_{kind}",
                source_id=target_id, reason=reason, incident_id=incident_id,
            )  # fmt: skip
            self.r.audit.record(
                conn, "triage.accept", object_type=f"triage_{kind}", object_id=target_id,
                detail={"incident": incident_id, "messages": len(attached),
                        "evidence": len(evidence), "resumed": not created},
            )  # fmt: skip
        return AcceptResult(incident_id, created, len(attached), evidence, flag_id)

    def _claim(self, table: sa.Table, target_id: str) -> None:
        """Take the row for this accept, or say who holds it: never two incidents."""
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            claimed = conn.execute(
                sa.update(table)
                .where(table.c.id == target_id, table.c.incident_id.is_(None),
                       sa.or_(table.c.accepting_since.is_(None),
                              table.c.accepting_since < now - ACCEPT_CLAIM))
                .values(accepting_since=now)
            ).rowcount  # fmt: skip
        if claimed != 1:
            raise Conflict(f"{target_id} is being accepted by someone else right now; "
                           "try again in a minute")  # fmt: skip

    def _country(self, defender: _Defender, country: str | None) -> str:
        chosen = (country or defender.country or "").strip().upper()
        if not chosen:
            raise ValidationError("country", "the defender's profile names no country: add it "
                                  "to the profile, or give the incident's country")  # fmt: skip
        return chosen

    def _capture(self, m: TriageMessage, batch: Row[Any], batch_name: str, incident_id: str) -> str:
        """The message preserved as evidence: a capture of its address when it has one
        (a file otherwise), holding the original text and its SHA-256 from intake."""
        page = capture_page(m, batch_name)
        note = (f"Message text SHA-256 (UTF-8, taken at intake): {m.text_sha256}. Triage batch "
                f"{batch.id} ('{batch_name}'), row {m.row}.")  # fmt: skip
        name = f"message-row-{m.row}.html"
        captured_at = utc(batch.created_at)
        if m.url:
            try:
                item = self.r.evidence.add_capture(batch.case_id, m.url, captured_at, name, page,
                                                   incident_id=incident_id, note=note)  # fmt: skip
                return item.id
            except ValidationError as exc:
                if exc.field != "url":
                    raise
        item = self.r.evidence.add(batch.case_id, name, page, incident_id=incident_id,
                                   description=note)  # fmt: skip
        return item.id

    # -- rows -----------------------------------------------------------------------------
    def _defender(self, defender_id: str) -> _Defender:
        _checked_id(defender_id, "defender")
        with self.r.store.read() as conn:
            row = conn.execute(
                sa.select(D.c.id, D.c.case_id, D.c.version, D.c.display_name_ct, D.c.country,
                          D.c.merged_into).where(D.c.id == defender_id)
            ).first()  # fmt: skip
            if row is None:
                raise NotFound(f"no defender {defender_id}")
            if not self.r.allowed("read_identity", _resource(row.case_id)):
                raise NotFound(f"no defender {defender_id}")
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            name = sealer.open("defenders", row.id, "display_name", row.version,
                               row.display_name_ct) or ""  # fmt: skip
        return _Defender(row.id, row.case_id, name, row.country, row.merged_into)

    def _batch_row(self, batch_id: str) -> Row[Any]:
        return self._row(B, batch_id, "triage batch", "read_identity")

    def _message_row(self, message_id: str, action: str) -> Row[Any]:
        return self._row(M, message_id, "message", action)

    def _campaign_row(self, campaign_id: str, action: str) -> Row[Any]:
        return self._row(C, campaign_id, "campaign", action)

    def _row(self, table: sa.Table, record_id: str, kind: str, action: str) -> Row[Any]:
        """One row of a triage table, only if ``action`` is allowed in its case; else
        NotFound, exactly as for a row that does not exist."""
        _checked_id(record_id, kind)
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == record_id)).first()
        if row is None:
            raise NotFound(f"no {kind} {record_id}")
        self.r.require_in_case(action, "case", record_id, row.case_id)
        return row

    def _batches(
        self, *, defender_id: str | None = None, batch_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> builtins.list[BatchSummary]:  # fmt: skip
        stmt = sa.select(B).order_by(B.c.created_at.desc(), B.c.id)
        if defender_id is not None:
            stmt = stmt.where(B.c.defender_id == _checked_id(defender_id, "defender"))
        if batch_ids is not None:
            stmt = stmt.where(B.c.id.in_(list(batch_ids)))
        visible = self.r.visible_cases()
        if visible is not None:
            if not visible:
                return []
            stmt = stmt.where(in_cases(B.c.case_id, visible, self.r.store.dialect))
        if limit is not None:
            stmt = stmt.limit(limit)
        out = []
        with self.r.store.read() as conn:
            rows = conn.execute(stmt).all()
            pending: dict[str, int] = {}
            if rows:
                ids = [r.id for r in rows]
                for start in range(0, len(ids), 500):
                    for bid, n in conn.execute(
                        sa.select(M.c.batch_id, sa.func.count())
                        .where(M.c.batch_id.in_(ids[start : start + 500]), M.c.status == "new",
                               M.c.categories != schema.codes_column(["none"]))
                        .group_by(M.c.batch_id)
                    ):  # fmt: skip
                        pending[bid] = int(n)
            for row in rows:
                sealer = sealer_for(conn, self.r.keyring, row.case_id)
                name = defender_name(conn, sealer, row.defender_id)
                out.append(BatchSummary(
                    id=row.id, case_id=row.case_id, defender_id=row.defender_id,
                    defender_name=name,
                    source_name=sealer.open("triage_batches", row.id, "source_name", 0,
                                            row.source_name_ct) or "",
                    messages=int(row.messages), skipped=int(row.skipped),
                    abusive=int(row.abusive), campaigns=int(row.campaigns),
                    model_id=row.model_id, created_at=utc(row.created_at),
                    created_by=row.created_by, unreviewed=pending.get(row.id, 0),
                ))  # fmt: skip
        return out


@dataclass(frozen=True)
class _Defender:
    id: str
    case_id: str
    name: str
    country: str | None
    merged_into: str | None


_SHIPPED: list[Triage] = []


def _shipped_engine() -> Triage:
    """The shipped models, loaded once per process (about a second, 70 MB)."""
    from amparo.triage.analyse import Triage

    if not _SHIPPED:
        _SHIPPED.append(Triage.load())
    return _SHIPPED[0]


def _resource(case_id: str) -> Any:
    from amparo.security.permissions import Resource

    return Resource("defender", case_id)


def _checked_id(value: str, what: str) -> str:
    """Ids (and prefixes) are lower-case hex; anything else never reaches the database."""
    text = (value or "").strip().lower()
    if not 0 < len(text) <= 32 or any(ch not in "0123456789abcdef" for ch in text):
        raise NotFound(f"no {what} {value!r}")
    return text


def _format_of(label: str) -> str | None:
    lowered = label.lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"),
                        (".csv", "csv"), (".tsv", "csv"), (".txt", "csv")):  # fmt: skip
        if lowered.endswith(suffix):
            return fmt
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _message(sealer: CaseSealer, row: Row[Any]) -> TriageMessage:
    def opened(field: str, value: bytes | None) -> str | None:
        return sealer.open("triage_messages", row.id, field, 0, value)

    return TriageMessage(
        id=row.id, batch_id=row.batch_id, case_id=row.case_id, campaign_id=row.campaign_id,
        row=int(row.row), source_id=opened("source_id", row.source_id_ct) or "",
        text=opened("text", row.text_ct) or "",
        text_sha256=opened("text_sha256", row.text_sha256_ct) or "",
        author=opened("author", row.author_ct), url=opened("url", row.url_ct),
        reply_to=opened("reply_to", row.reply_to_ct), platform=row.platform,
        posted_at=None if row.posted_at is None else utc(row.posted_at),
        language=row.language, urgency=int(row.urgency),
        model_categories=schema.codes_from_column(row.categories),
        scores=json.loads(row.scores), model_scores=json.loads(row.model_scores),
        reasons=sealer.open_json("triage_messages", row.id, "reasons", 0, row.reasons_ct) or [],
        doxxing=sealer.open_json("triage_messages", row.id, "doxxing", 0, row.doxxing_ct) or [],
        model_id=row.model_id, status=row.status,
        relabel=None if row.relabel is None else schema.codes_from_column(row.relabel),
        relabelled_at=None if row.relabelled_at is None else utc(row.relabelled_at),
        relabelled_by=row.relabelled_by,
        dismiss_reason=opened("dismiss_reason", row.dismiss_reason_ct),
        reviewed_at=None if row.reviewed_at is None else utc(row.reviewed_at),
        reviewed_by=row.reviewed_by, incident_id=row.incident_id, evidence_id=row.evidence_id,
    )  # fmt: skip


def _campaign(
    sealer: CaseSealer, row: Row[Any], members: builtins.list[str], representative: str
) -> StoredCampaign:
    def opened(field: str, value: bytes | None) -> Any:
        return sealer.open_json("triage_campaigns", row.id, field, 0, value) or []

    return StoredCampaign(
        id=row.id, batch_id=row.batch_id, case_id=row.case_id, rank=int(row.rank),
        score=float(row.score), similarity=float(row.similarity), members=members,
        accounts=int(row.accounts), authors=list(opened("authors", row.authors_ct)),
        start=None if row.start_at is None else utc(row.start_at),
        end=None if row.end_at is None else utc(row.end_at),
        representative_id=row.representative_id, representative=representative,
        reasons=list(opened("reasons", row.reasons_ct)), status=row.status,
        incident_id=row.incident_id,
    )  # fmt: skip
