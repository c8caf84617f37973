"""Cases: the compartments that own a data key. Shredding a case destroys its key."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.security.permissions import Resource
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.search_index import compact, remove_docs
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["CaseService", "CaseSummary", "ShredReport"]


@dataclass(frozen=True)
class CaseSummary:
    id: str
    title: str | None
    status: str
    created_at: datetime
    shredded: bool


@dataclass(frozen=True)
class ShredReport:
    case_id: str
    incidents: int
    defenders: int
    versions: int
    files: int
    evidence: int = 0
    # PostgreSQL sessions whose open transactions may keep old row versions (the wrapped key
    # among them) in the table files until they end and VACUUM FULL runs again; 0 normally.
    held_by_sessions: int = 0


class CaseService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def create(self, title: str | None = None, *, conn: Connection | None = None) -> str:
        """A new case; a signed-in creator gets a write grant on it."""
        self.r.require("create", Resource("registry"))
        if conn is None:
            with self.r.store.write() as own:
                return self.create(title, conn=own)
        row = self.new_case_row(title)
        conn.execute(sa.insert(schema.cases), [row])
        grants = self.r.grant_rows_for_new_case(str(row["id"]))
        if grants:
            conn.execute(sa.insert(schema.case_grants), grants)
        return str(row["id"])

    def open(self, title: str | None = None) -> CaseSummary:
        """Like ``create``, returning the new case's summary (the creator's grant is new, so
        this request's actor could not read it back yet)."""
        self.r.require("create", Resource("registry"))
        row = self.new_case_row(title)
        with self.r.store.write() as conn:
            conn.execute(sa.insert(schema.cases), [row])
            grants = self.r.grant_rows_for_new_case(str(row["id"]))
            if grants:
                conn.execute(sa.insert(schema.case_grants), grants)
            self.r.audit.record(conn, "case.open", object_type="case", object_id=str(row["id"]))
        return CaseSummary(
            id=str(row["id"]), title=title, status="open", created_at=utc(row["created_at"]),
            shredded=False,
        )  # fmt: skip

    def new_case_row(self, title: str | None = None) -> dict[str, Any]:
        """A new case with a fresh data key, as a row to insert (the key stays cached)."""
        if title is not None and len(title) > 300:
            raise ValidationError("title", "is too long (at most 300 characters)")
        case_id = self.r.new_id()
        key, wrapped = self.r.keyring.new_case_key(case_id)
        return {
            "id": case_id,
            "title_ct": CaseSealer(case_id, key).seal("cases", case_id, "title", 0, title),
            "status": "open",
            "wrapped_key": wrapped,
            "created_at": self.r.clock.now(),
            "shredded_at": None,
        }

    def get(self, case_id: str) -> CaseSummary:
        self.r.require_in_case("read_identity", "case", case_id, case_id)
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(schema.cases).where(schema.cases.c.id == case_id)).first()
            if row is None:
                raise NotFound(f"no case {case_id}")
            title = None
            if row.shredded_at is None and row.title_ct is not None:
                title = sealer_for(conn, self.r.keyring, case_id).open(
                    "cases", case_id, "title", 0, row.title_ct
                )
        return CaseSummary(
            id=row.id,
            title=title,
            status=row.status,
            created_at=utc(row.created_at),
            shredded=row.shredded_at is not None,
        )

    def list(
        self, *, after: str | None = None, limit: int = 50
    ) -> builtins.list[tuple[CaseSummary, int, int, str | None]]:
        """Cases the actor is a member of, oldest first: (summary, incidents, defenders, grant).

        Keyset-paged by id (ids are time-ordered). Titles are identities: members only.
        """
        c = schema.cases
        stmt = sa.select(c).order_by(c.c.id).limit(limit)
        visible = self.r.visible_cases()
        if visible is not None:
            if not visible:
                return []
            stmt = stmt.where(in_cases(c.c.id, visible, self.r.store.dialect))
        if after is not None:
            stmt = stmt.where(c.c.id > after)
        out = []
        with self.r.store.read() as conn:
            rows = conn.execute(stmt).all()
            counts = _record_counts(conn, [row.id for row in rows])
            for row in rows:
                title = None
                if row.shredded_at is None and row.title_ct is not None:
                    title = sealer_for(conn, self.r.keyring, row.id).open(
                        "cases", row.id, "title", 0, row.title_ct
                    )
                summary = CaseSummary(
                    id=row.id, title=title, status=row.status, created_at=utc(row.created_at),
                    shredded=row.shredded_at is not None,
                )  # fmt: skip
                level = self.r.principal.grants.get(row.id)
                out.append((summary, counts[row.id][0], counts[row.id][1], level))
        self.r.audit.record_alone("case.list", object_type="case", detail={"count": len(out)})
        return out

    def overview(self, case_id: str) -> tuple[CaseSummary, int, int, str | None]:
        """A case with its numbers of incidents and defenders and the actor's grant."""
        summary = self.get(case_id)
        with self.r.store.read() as conn:
            counts = _record_counts(conn, [case_id])[case_id]
        return summary, counts[0], counts[1], self.r.principal.grants.get(case_id)

    def shred(self, case_id: str) -> ShredReport:
        """Delete every record of the case and destroy its key. Irreversible by design."""
        self.r.require("shred", Resource("case", case_id))
        s = schema
        with self.r.store.write() as conn:
            found = conn.execute(
                sa.select(s.cases.c.shredded_at).where(s.cases.c.id == case_id)
            ).first()
            if found is None:
                raise NotFound(f"no case {case_id}")
            if found.shredded_at is not None:
                raise Conflict(f"case {case_id} was already shredded")
            incident_ids = [
                r[0]
                for r in conn.execute(
                    sa.select(s.incidents.c.id).where(s.incidents.c.case_id == case_id)
                )
            ]
            defender_ids = [
                r[0]
                for r in conn.execute(
                    sa.select(s.defenders.c.id).where(s.defenders.c.case_id == case_id)
                )
            ]
            versioned_ids = [
                r[0]
                for r in conn.execute(
                    sa.select(s.record_versions.c.entity_id)
                    .where(s.record_versions.c.case_id == case_id)
                    .distinct()
                )
            ]
            file_ids = [
                r[0]
                for r in conn.execute(
                    sa.select(s.attachments.c.id).where(s.attachments.c.case_id == case_id)
                )
            ]
            evidence_blobs = conn.execute(
                sa.select(s.evidence.c.original_blob, s.evidence.c.shared_blob).where(
                    s.evidence.c.case_id == case_id
                )
            ).all()
            remove_docs(conn, sorted(set(incident_ids + defender_ids + versioned_ids)))
            for chunk in _chunks(defender_ids):
                # Acts in other cases keep the act, lose the link to a person who is gone.
                conn.execute(
                    sa.update(s.acts)
                    .where(s.acts.c.victim_defender_id.in_(chunk))
                    .values(victim_defender_id=None, victim_person_id=None)
                )
                person_ids = sa.select(s.close_people.c.id).where(
                    s.close_people.c.defender_id.in_(chunk)
                )
                conn.execute(
                    sa.update(s.acts)
                    .where(s.acts.c.victim_person_id.in_(person_ids))
                    .values(victim_person_id=None)
                )
                conn.execute(
                    sa.update(s.defenders)
                    .where(s.defenders.c.merged_into.in_(chunk))
                    .values(merged_into=None)
                )
            _delete_incidents(conn, incident_ids)
            for chunk in _chunks(defender_ids):
                conn.execute(
                    sa.delete(s.close_people).where(s.close_people.c.defender_id.in_(chunk))
                )
                conn.execute(sa.delete(s.consents).where(s.consents.c.defender_id.in_(chunk)))
                conn.execute(sa.delete(s.defenders).where(s.defenders.c.id.in_(chunk)))
            versions = conn.execute(
                sa.delete(s.record_versions).where(s.record_versions.c.case_id == case_id)
            ).rowcount
            conn.execute(sa.delete(s.attachments).where(s.attachments.c.case_id == case_id))
            conn.execute(sa.delete(s.custody_log).where(s.custody_log.c.case_id == case_id))
            conn.execute(sa.delete(s.evidence).where(s.evidence.c.case_id == case_id))
            for table in (s.triage_messages, s.triage_campaigns, s.triage_batches, s.risk_flags,
                          s.risk_assessments, s.protection_measures, s.urgent_actions,
                          s.checkins, s.checkin_schedules, s.notifications):  # fmt: skip
                conn.execute(sa.delete(table).where(table.c.case_id == case_id))
            conn.execute(sa.delete(s.case_grants).where(s.case_grants.c.case_id == case_id))
            conn.execute(
                sa.update(s.cases)
                .where(s.cases.c.id == case_id)
                .values(
                    wrapped_key=None,
                    title_ct=None,
                    status="shredded",
                    shredded_at=self.r.clock.now(),
                )
            )
            compact(conn)
            self.r.audit.record(
                conn, "case.shred", object_type="case", object_id=case_id,
                detail={"incidents": len(incident_ids), "defenders": len(defender_ids),
                        "versions": versions, "files": len(file_ids),
                        "evidence": len(evidence_blobs)},
            )  # fmt: skip
        self.r.keyring.forget_case_key(case_id)
        for file_id in file_ids:
            self.r.files.remove_blob(file_id)
        for blobs in evidence_blobs:
            for blob_id in blobs:
                if blob_id is not None:
                    self.r.files.remove_blob(blob_id)
        held = self.r.store.checkpoint()
        return ShredReport(case_id, len(incident_ids), len(defender_ids), versions,
                           len(file_ids), len(evidence_blobs), held)  # fmt: skip


def _delete_incidents(conn: Connection, incident_ids: list[str]) -> None:
    s = schema
    for chunk in _chunks(incident_ids):
        act_ids = sa.select(s.acts.c.id).where(s.acts.c.incident_id.in_(chunk))
        conn.execute(sa.delete(s.involvements).where(s.involvements.c.act_id.in_(act_ids)))
        for table in (s.acts, s.perpetrators, s.sources, s.interventions):
            conn.execute(sa.delete(table).where(table.c.incident_id.in_(chunk)))
        conn.execute(
            sa.delete(s.incident_links).where(
                s.incident_links.c.incident_id.in_(chunk) | s.incident_links.c.related_id.in_(chunk)
            )
        )
        conn.execute(sa.delete(s.incidents).where(s.incidents.c.id.in_(chunk)))


def _record_counts(conn: Connection, case_ids: list[str]) -> dict[str, list[int]]:
    """case id -> [incidents, defenders]."""
    counts: dict[str, list[int]] = {case_id: [0, 0] for case_id in case_ids}
    for position, table in enumerate((schema.incidents, schema.defenders)):
        for case_id, n in conn.execute(
            sa.select(table.c.case_id, sa.func.count())
            .where(table.c.case_id.in_(case_ids))
            .group_by(table.c.case_id)
        ):
            counts[case_id][position] = n
    return counts


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
