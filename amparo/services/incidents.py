"""Incidents (events) with their acts, perpetrators, sources, interventions and links."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.audit import filter_names
from amparo.domain.dates import ApproxDate
from amparo.domain.models import (
    Act,
    Incident,
    Intervention,
    Involvement,
    Link,
    Perpetrator,
    Source,
    parse_incident,
)
from amparo.errors import (
    AmparoError,
    Conflict,
    Forbidden,
    NotFound,
    ValidationError,
    ValidationErrors,
)
from amparo.security.permissions import Resource
from amparo.services.bulk_import import PARALLEL_THRESHOLD, import_in_parallel
from amparo.services.cases import _delete_incidents
from amparo.services.lookup import resolve_prefix
from amparo.services.paging import apply_sort, parse_sort
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.search_index import (
    count_matches,
    index_docs,
    matching_ids,
    remove_docs,
    tokens_for_fields,
)
from amparo.services.versions import (
    FieldChange,
    VersionInfo,
    VersionReader,
    changed_fields,
    seal_snapshot,
)
from amparo.services.visibility import in_cases
from amparo.store import schema
from amparo.store.engine import Store

if TYPE_CHECKING:
    from amparo.registry import Registry
    from amparo.security.keyring import Keyring

__all__ = ["ImportReport", "IncidentFilter", "IncidentService", "IncidentSummary"]

I = schema.incidents  # noqa: E741 - the table everyone reads as "I"
A = schema.acts
T = schema.search_docs
ENTITY = "incident"
SEARCH_FIELDS = ("title", "narrative", "place", "people", "details")
BATCH = 500
MANY_CASES = 200  # visible cases beyond which a list walks the date index, not the case index
DATE_SCAN_ABOVE = 1_000  # matching records beyond which a search pages by date order
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IncidentFilter:
    country: str | None = None
    region: str | None = None
    act_type: str | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    gender_identity: str | None = None
    sector: str | None = None
    perpetrator_type: str | None = None
    modality: str | None = None
    gender_feature: str | None = None
    gender_specific: str | None = None
    case_id: str | None = None
    defender_id: str | None = None
    text: str | None = None
    limit: int | None = None
    offset: int = 0
    sort: str = "-date"  # a key of SORTS, '-' for descending
    after: tuple[str | None, str] | None = None  # keyset: (sort value, id) of the last row seen


SORTS: dict[str, sa.ColumnElement[Any]] = {
    "date": I.c.date_start,
    "country": I.c.country,
    "created": I.c.created_at,
    "updated": I.c.updated_at,
}


@dataclass(frozen=True)
class IncidentSummary:
    id: str
    case_id: str
    title: str
    date_start: str
    date_precision: str
    country: str
    region: str | None
    violation_status: str
    act_types: builtins.list[str] = field(default_factory=list)
    sort_value: str | None = field(default=None, compare=False, repr=False)  # for cursors

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "title": self.title,
            "date_start": self.date_start,
            "date_precision": self.date_precision,
            "country": self.country,
            "region": self.region,
            "violation_status": self.violation_status,
            "act_types": self.act_types,
        }


@dataclass
class ImportReport:
    added: builtins.list[str] = field(default_factory=list)
    errors: builtins.list[tuple[int, AmparoError]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "rejected": len(self.errors),
            "errors": [{"row": row, "error": str(err)} for row, err in self.errors],
        }


class IncidentService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry
        self.versions = VersionReader(registry, ENTITY)

    # -- writing ------------------------------------------------------------------------
    def add(self, data: Mapping[str, Any], *, case_id: str | None = None) -> Incident:
        report = self.add_many([data], case_id=case_id, strict=True)
        with self.r.store.read() as conn:
            return self._load(conn, report.added[0])

    def add_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        case_id: str | None = None,
        strict: bool = False,
        atomic: bool = False,
        progress: Progress | None = None,
        total: int = 0,
        parallel: bool | None = None,
    ) -> ImportReport:
        """Import many records; each is all-or-nothing, bad ones are reported by row.

        With ``strict`` the first bad record raises instead (and nothing of it is written).
        With ``atomic`` every record is checked first and nothing at all is written unless
        all are valid; the problems are raised together as ``ValidationErrors`` (with rows).
        ``parallel`` prepares batches in a second process (amparo.services.bulk_import); by
        default only for large imports.
        """
        self.r.require("create", Resource("registry"))
        if parallel is None:
            parallel = isinstance(records, Sequence) and len(records) >= PARALLEL_THRESHOLD
        if parallel and not (strict or atomic) and isinstance(records, Sequence):
            return import_in_parallel(
                self, records, case_id=case_id, batch_size=BATCH, progress=progress,
                total=total or len(records),
            )  # fmt: skip
        report = ImportReport()
        writer = _BatchWriter(self.r.store, self._store_batch) if not (strict or atomic) else None
        pending: builtins.list[tuple[dict[str, builtins.list[dict[str, Any]]], builtins.list[str]]]
        pending = []
        batch: builtins.list[tuple[int, Incident]] = []
        today = self.r.clock.today()
        row = 0
        try:
            for row, data in enumerate(records, start=1):
                try:
                    incident = parse_incident(data, self.r.vocab, today)
                    incident.case_id = _case_hint(data) or case_id
                except ValidationError as exc:
                    if strict:
                        raise
                    report.errors.append((row, exc))
                    continue
                batch.append((row, incident))
                if len(batch) >= BATCH:
                    self._flush(batch, report, strict, writer, pending if atomic else None)
                    batch = []
                    if progress:
                        progress(row, total)
            if batch:
                self._flush(batch, report, strict, writer, pending if atomic else None)
        finally:
            if writer is not None:
                report.added.extend(writer.close())
        report.errors.sort(key=lambda item: item[0])
        if atomic:
            if report.errors:
                raise ValidationErrors(
                    [
                        ValidationError(single.field, single.message, row=n)
                        for n, e in report.errors
                        for single in (e.errors if isinstance(e, ValidationErrors) else [e])
                        if isinstance(single, ValidationError)
                    ]
                )
            with self.r.store.write() as conn:
                for rows, added in pending:
                    self._store_batch(conn, rows, added)
            report.added.extend(a for _, added in pending for a in added)
        if progress:
            progress(row, total)
        return report

    def _flush(
        self,
        batch: builtins.list[tuple[int, Incident]],
        report: ImportReport,
        strict: bool,
        writer: _BatchWriter | None,
        pending: builtins.list[Any] | None = None,
    ) -> None:
        rows, added = self._prepare_batch(batch, report, strict)
        if pending is not None:
            pending.append((rows, added))
        elif writer is None:
            with self.r.store.write() as conn:
                self._store_batch(conn, rows, added)
            report.added.extend(added)
        else:
            writer.submit(rows, added)

    def _store_batch(
        self,
        conn: Connection,
        rows: Mapping[str, builtins.list[dict[str, Any]]],
        added: builtins.list[str],
    ) -> None:
        """Insert a prepared batch and its audit entries (one per incident) together."""
        _insert_rows(conn, rows)
        cases = {r["entity_id"]: r["case_id"] for r in rows.get("record_versions", [])}
        self.r.audit.record_many(
            conn,
            "incident.create",
            [(ENTITY, i, {"case": cases.get(i), "version": 1}) for i in added],
        )

    def _audit(self, conn: Connection, action: str, incident_id: str, **detail: object) -> None:
        self.r.audit.record(
            conn, f"incident.{action}", object_type=ENTITY, object_id=incident_id, detail=detail
        )

    def _prepare_batch(
        self, batch: builtins.list[tuple[int, Incident]], report: ImportReport, strict: bool
    ) -> tuple[dict[str, builtins.list[dict[str, Any]]], builtins.list[str]]:
        """Validate references, encrypt and index a batch into rows, reading only.

        Runs while the writer thread stores the previous batch: SQLite and the FTS index do
        their work without holding the GIL, so the two cores overlap.
        """
        rows: dict[str, builtins.list[dict[str, Any]]] = defaultdict(list)
        added: builtins.list[str] = []
        with self.r.store.read() as conn:
            resolver = _References(conn)
            resolver.prefetch(
                a.victim_defender_id for _, inc in batch for a in inc.acts if a.victim_defender_id
            )
            for row, incident in batch:
                try:
                    resolver.check(incident)
                except ValidationError as exc:
                    if strict:
                        raise
                    report.errors.append((row, exc))
                    continue
                if incident.case_id is None:
                    incident.case_id = resolver.case_of_victim(incident)
                if incident.case_id is not None and not self.r.allowed(
                    "write", Resource("case", incident.case_id)
                ):
                    denied = Forbidden(f"row {row}: may not add incidents to that case")
                    if strict:
                        raise denied
                    report.errors.append((row, denied))
                    continue
                incident.id = self.r.new_id()
                incident.version = 1
                if incident.case_id is None:
                    case_row = self.r.cases.new_case_row()
                    rows["cases"].append(case_row)
                    incident.case_id = str(case_row["id"])
                    rows["case_grants"].extend(self.r.grant_rows_for_new_case(incident.case_id))
                sealer = sealer_for(conn, self.r.keyring, incident.case_id)
                self._collect_rows(rows, sealer, incident, created=True)
                snapshot = incident.to_dict()
                self._collect_version(
                    rows, sealer, incident, "create", changed_fields(None, snapshot), snapshot
                )
                added.append(incident.id)
        return rows, added

    def amend(
        self, incident_id: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Incident:
        with self.r.store.write() as conn:
            current = self._load(conn, incident_id)
            self._require(current, "write")
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"incident {incident_id} is at version {current.version}, "
                    f"not {expected_version}: someone changed it meanwhile"
                )
            merged = {**_editable(current.to_dict()), **dict(changes)}
            updated = parse_incident(merged, self.r.vocab, self.r.clock.today())
            return self._replace(conn, current, updated, "amend")

    def _replace(
        self, conn: Connection, current: Incident, updated: Incident, action: str
    ) -> Incident:
        assert current.id and current.case_id
        _References(conn).check(updated, self_id=current.id)
        updated.id, updated.case_id = current.id, current.case_id
        updated.version = current.version + 1
        sealer = sealer_for(conn, self.r.keyring, current.case_id)
        _delete_children(conn, current.id)
        remove_docs(conn, [current.id])
        rows: dict[str, builtins.list[dict[str, Any]]] = defaultdict(list)
        self._collect_rows(rows, sealer, updated, created=False)
        incident_row = rows.pop("incidents")[0]
        for key in ("created_at", "created_by"):
            incident_row.pop(key)
        conn.execute(sa.update(I).where(I.c.id == current.id).values(**incident_row))
        changed = changed_fields(current.to_dict(), updated.to_dict())
        self._collect_version(rows, sealer, updated, action, changed)
        _insert_rows(conn, rows)
        self._audit(conn, action, current.id, version=updated.version, fields=changed)
        return updated

    def delete(self, incident_id: str) -> None:
        """Remove from the registry; the history keeps a sealed copy that can be restored."""
        with self.r.store.write() as conn:
            current = self._load(conn, incident_id)
            self._require(current, "delete")
            assert current.case_id
            sealer = sealer_for(conn, self.r.keyring, current.case_id)
            remove_docs(conn, [incident_id])
            _delete_incidents(conn, [incident_id])
            current.version += 1
            rows: dict[str, builtins.list[dict[str, Any]]] = defaultdict(list)
            self._collect_version(rows, sealer, current, "delete", [])
            _insert_rows(conn, rows)
            self._audit(conn, "delete", incident_id, version=current.version)

    def restore(self, incident_id: str, version: int) -> Incident:
        self._require_by_history(incident_id, "write")
        snapshot = self.versions.snapshot(incident_id, version)
        if snapshot is None:
            raise NotFound(f"incident {incident_id} version {version} holds no record")
        restored = parse_incident(_editable(snapshot), self.r.vocab, self.r.clock.today())
        with self.r.store.write() as conn:
            if conn.execute(sa.select(I.c.id).where(I.c.id == incident_id)).first():
                return self._replace(conn, self._load(conn, incident_id), restored, "restore")
            _References(conn).check(restored, self_id=incident_id)
            last = max(v.version for v in self.versions.history(incident_id))
            restored.id, restored.case_id = incident_id, snapshot["case_id"]
            restored.version = last + 1
            sealer = sealer_for(conn, self.r.keyring, snapshot["case_id"])
            rows: dict[str, builtins.list[dict[str, Any]]] = defaultdict(list)
            self._collect_rows(rows, sealer, restored, created=True)
            self._collect_version(rows, sealer, restored, "restore", ["*"])
            _insert_rows(conn, rows)
            self._audit(conn, "restore", incident_id, version=restored.version, fields="*")
            return restored

    # -- reading ------------------------------------------------------------------------
    def resolve(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, I, id_or_prefix, "incident")

    def get(self, incident_id: str) -> Incident:
        """One incident in full; the read is audited."""
        with self.r.store.read() as conn:
            incident = self._load(conn, incident_id)
        self._require(incident, "read_identity")
        self.r.audit.record_alone("incident.read", object_type=ENTITY, object_id=incident_id,
                                  detail={"version": incident.version})  # fmt: skip
        return incident

    def history(self, incident_id: str) -> builtins.list[VersionInfo]:
        self._require_by_history(incident_id, "read_identity")
        return self.versions.history(incident_id)

    def diff(self, incident_id: str, old: int, new: int) -> builtins.list[FieldChange]:
        self._require_by_history(incident_id, "read_identity")
        changes = self.versions.diff(incident_id, old, new)
        self.r.audit.record_alone("incident.diff", object_type=ENTITY, object_id=incident_id,
                                  detail={"versions": f"{old},{new}"})  # fmt: skip
        return changes

    def pseudonymised(self, query: IncidentFilter | None = None) -> builtins.list[dict[str, Any]]:
        """Coded facets of every incident for analysis, with no identity in them.

        Victims and incidents appear as stable pseudonyms (a keyed hash of the id), so an
        analyst can follow one person's incidents over time without learning who she is.
        Text search is not offered here: it would probe the encrypted narratives.
        """
        self.r.require("read_pseudonymised", Resource("registry"))
        q = query or IncidentFilter()
        if q.text:
            raise Forbidden("keyword search reads identities; pseudonymised views have none")
        key = self.r.keyring.subkey("pseudonyms")
        stmt = _filtered(q).order_by(I.c.date_start.desc(), I.c.id.desc())
        if q.limit is not None:
            stmt = stmt.limit(q.limit).offset(q.offset)
        d = schema.defenders
        with self.r.store.read() as conn:
            rows = conn.execute(stmt).all()
            acts: dict[str, builtins.list[dict[str, Any]]] = defaultdict(list)
            for start in range(0, len(rows), BATCH):
                chunk = [r.id for r in rows[start : start + BATCH]]
                for a in conn.execute(
                    sa.select(
                        A.c.incident_id, A.c.act_type, A.c.victim_defender_id, A.c.gender_specific,
                        A.c.gender_features, A.c.target_relation, A.c.modality, A.c.collective,
                        A.c.people_affected, d.c.gender_identity, d.c.sectors, d.c.kind,
                    )
                    .select_from(A.outerjoin(d, A.c.victim_defender_id == d.c.id))
                    .where(A.c.incident_id.in_(chunk))
                    .order_by(A.c.incident_id, A.c.position)
                ):  # fmt: skip
                    acts[a.incident_id].append({
                        "act_type": a.act_type,
                        "victim": _pseudonym(key, "P", a.victim_defender_id),
                        "victim_kind": a.kind, "victim_gender_identity": a.gender_identity,
                        "victim_sectors": schema.codes_from_column(a.sectors),
                        "gender_specific": a.gender_specific,
                        "gender_features": schema.codes_from_column(a.gender_features),
                        "target_relation": a.target_relation, "modality": a.modality,
                        "collective": a.collective, "people_affected": a.people_affected,
                    })  # fmt: skip
        return [
            {
                "incident": _pseudonym(key, "I", r.id),
                "date_start": str(ApproxDate(r.date_start, r.date_precision)),
                "country": r.country,
                "region": r.region,
                "violation_status": r.violation_status,
                "acts": acts.get(r.id, []),
            }
            for r in rows
        ]

    def export(
        self, query: IncidentFilter | None = None, *, fmt: str = "jsonl",
        action: str = "incident.export", detail: Mapping[str, object] | None = None,
    ) -> Iterator[Incident]:  # fmt: skip
        """Every incident the filter selects, in full, for leaving the vault.

        The actor needs ``export`` on every case involved (checked before anything is read);
        one audit entry (``action``) names the count, format, filter names and ``detail``.
        Records are loaded a batch at a time so an export of the whole registry does not sit
        in memory at once.
        """
        q = replace(query or IncidentFilter(), limit=None, offset=0, after=None)
        ids = [(s.id, s.case_id) for s in self._list(q)]
        for case_id in sorted({case for _, case in ids}):
            self.r.require_in_case("export", "case", case_id, case_id)
        self.r.audit.record_alone(
            action, object_type=ENTITY,
            detail={"count": len(ids), "format": fmt, "filters": filter_names(q),
                    **(detail or {})},
        )  # fmt: skip
        return self._export_batches([incident_id for incident_id, _ in ids])

    def _export_batches(self, ids: Sequence[str]) -> Iterator[Incident]:
        for start in range(0, len(ids), BATCH):
            with self.r.store.read() as conn:
                batch = _load_many(conn, self.r.keyring, ids[start : start + BATCH])
            yield from batch

    def _require(self, incident: Incident, action: str) -> None:
        assert incident.id and incident.case_id
        self.r.require_in_case(action, ENTITY, incident.id, incident.case_id)

    def _require_by_history(self, incident_id: str, action: str) -> None:
        """For records that may be deleted: their case is known from their history."""
        case_id = self.versions.case_of(incident_id)
        self.r.require_in_case(action, ENTITY, incident_id, case_id)

    def count(self) -> int:
        if not (
            self.r.allowed("read_aggregates", Resource("registry"))
            or self.r.allowed("read", Resource("registry"))
        ):
            raise Forbidden("not allowed to count incidents")
        with self.r.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(I)).scalar_one())

    def search(
        self, text: str, query: IncidentFilter | None = None
    ) -> builtins.list[IncidentSummary]:
        q = query or IncidentFilter()
        return self.list(IncidentFilter(**{**q.__dict__, "text": text}))

    def list(self, query: IncidentFilter | None = None) -> builtins.list[IncidentSummary]:
        """Summaries (titles may name people): one audit entry per call, never the filters."""
        q = query or IncidentFilter()
        out = self._list(q)
        self.r.audit.record_alone(
            "incident.list", object_type=ENTITY,
            detail={"count": len(out), "filters": filter_names(q)},
        )  # fmt: skip
        return out

    def _list(self, q: IncidentFilter) -> builtins.list[IncidentSummary]:
        sort_name, descending = parse_sort(q.sort, SORTS)
        sort_column = SORTS[sort_name]
        stmt = _filtered(q).add_columns(sort_column.label("sort_value"))
        visible = self.r.visible_cases()
        if visible is not None:  # need-to-know: only cases the principal is a member of
            if not visible:
                return []
            if len(visible) > MANY_CASES and not q.case_id:
                # Someone who sees most cases: walking the date index and testing membership
                # stops at the page; SQLite would otherwise read every row of every case by
                # the case index and sort them all. A unary '+' keeps that index out. On
                # PostgreSQL the plan is right already, but estimating 2,000 array elements
                # against the column's statistics costs 15-30 ms of planning per query for a
                # plan that runs in 0.3 ms; an expression without statistics plans in 0.7 ms.
                plain: sa.ColumnElement[str] = sa.literal_column(
                    "+incidents.case_id"
                    if self.r.store.dialect == "sqlite"
                    else "(incidents.case_id || '')"
                )
                stmt = stmt.where(in_cases(plain, visible, self.r.store.dialect))
            else:
                stmt = stmt.where(in_cases(I.c.case_id, visible, self.r.store.dialect))
        with self.r.store.read() as conn:
            if q.text is not None:
                matches = matching_ids(
                    self.r.keyring, conn.dialect.name, ENTITY, SEARCH_FIELDS, q.text
                )
                if matches is None:
                    return []
                # The planners cannot tell a rare word from a common one, so count first.
                # Many matches: walk the date index and stop at the page. Few: fetch them
                # by id and sort. Each planner, left alone, picks one plan for both.
                many = (
                    q.limit is not None
                    and count_matches(conn, matches, DATE_SCAN_ABOVE + 1) > DATE_SCAN_ABOVE
                )
                if many and conn.dialect.name == "sqlite" and sort_name == "date":
                    # Walking the date index, each record's document is looked up and
                    # tested against the FTS matches, which SQLite lists once as integers.
                    # `id IN (matches)` first built a list of every matching record's id
                    # string: 44 ms for a common word at 100,000 records, against 4 ms.
                    stmt = stmt.where(matches.where(T.c.entity_id == I.c.id).exists())
                elif many and conn.dialect.name == "sqlite":
                    # A unary '+' keeps SQLite from using the primary key for the IN test.
                    stmt = stmt.where(sa.literal_column("+incidents.id").in_(matches))
                elif not many and conn.dialect.name == "postgresql":
                    ids = [str(row[0]) for row in conn.execute(matches)]
                    if not ids:
                        return []
                    # Up to a thousand ids: as one parameter, not a thousand (point 3 of
                    # "Where the time goes" in docs/benchmarks.md).
                    stmt = stmt.where(in_cases(I.c.id, ids, conn.dialect.name))
                else:
                    stmt = stmt.where(I.c.id.in_(matches))
            stmt = apply_sort(stmt, sort_column, I.c.id, descending, q.after)
            if q.limit is not None:
                stmt = stmt.limit(q.limit).offset(q.offset)
            rows = conn.execute(stmt).all()
            act_types: dict[str, builtins.list[str]] = defaultdict(list)
            ids_page = [r.id for r in rows]
            for start in range(0, len(ids_page), BATCH):
                chunk = ids_page[start : start + BATCH]
                for a in conn.execute(
                    sa.select(A.c.incident_id, A.c.act_type)
                    .where(A.c.incident_id.in_(chunk))
                    .order_by(A.c.incident_id, A.c.position)
                ):
                    if a.act_type not in act_types[a.incident_id]:
                        act_types[a.incident_id].append(a.act_type)
            out = []
            for r in rows:
                sealer = sealer_for(conn, self.r.keyring, r.case_id)
                out.append(
                    IncidentSummary(
                        id=r.id,
                        case_id=r.case_id,
                        title=sealer.open("incidents", r.id, "title", r.version, r.title_ct) or "",
                        date_start=str(ApproxDate(r.date_start, r.date_precision)),
                        date_precision=r.date_precision,
                        country=r.country,
                        region=r.region,
                        violation_status=r.violation_status,
                        act_types=act_types.get(r.id, []),
                        sort_value=_sort_text(r.sort_value),
                    )
                )
        return out

    # -- rows ---------------------------------------------------------------------------
    def _collect_rows(
        self,
        rows: dict[str, builtins.list[dict[str, Any]]],
        sealer: CaseSealer,
        inc: Incident,
        *,
        created: bool,
    ) -> None:
        assert inc.id and inc.case_id
        now, v, i, actor = self.r.clock.now(), inc.version, inc.id, self.r.actor
        seal = sealer.seal
        rows["incidents"].append({
            "id": i, "case_id": inc.case_id, "version": v,
            "title_ct": seal("incidents", i, "title", v, inc.title),
            "narrative_ct": seal("incidents", i, "narrative", v, inc.narrative),
            "date_start": inc.date_start.value, "date_end": inc.date_end,
            "date_precision": inc.date_start.precision, "country": inc.country,
            "region": inc.region, "place_ct": seal("incidents", i, "place", v, inc.place),
            "location_precision": inc.location_precision,
            "violation_status": inc.violation_status, "counting_unit": inc.counting_unit,
            "confidential": inc.confidential,
            "notes_ct": sealer.seal_json("incidents", i, "notes", v, inc.notes),
            "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor,
        })  # fmt: skip
        for pos, p in enumerate(inc.perpetrators):
            p.id = self.r.new_id()
            rows["perpetrators"].append({
                "id": p.id, "incident_id": i, "position": pos,
                "perpetrator_type": p.perpetrator_type,
                "name_ct": seal("perpetrators", p.id, "name", v, p.name),
                "description_ct": seal("perpetrators", p.id, "description", v, p.description),
            })  # fmt: skip
        for pos, a in enumerate(inc.acts):
            a.id = self.r.new_id()
            rows["acts"].append({
                "id": a.id, "incident_id": i, "position": pos,
                "victim_defender_id": a.victim_defender_id,
                "victim_person_id": a.victim_person_id,
                "victim_description_ct": seal("acts", a.id, "victim_description", v,
                                              a.victim_description),
                "act_type": a.act_type, "act_date": a.act_date,
                "gender_specific": a.gender_specific,
                "gender_features": schema.codes_column(a.gender_features),
                "target_relation": a.target_relation, "modality": a.modality,
                "collective": a.collective, "people_affected": a.people_affected,
                "previously_threatened": a.previously_threatened,
                "business_company_ct": seal("acts", a.id, "business_company", v,
                                            a.business_company),
                "business_sector": a.business_sector,
            })  # fmt: skip
            seen: set[str] = set()
            for inv in a.involvements:
                perp_id = inc.perpetrators[inv.perpetrator].id
                assert perp_id
                if perp_id not in seen:
                    seen.add(perp_id)
                    rows["involvements"].append(
                        {"act_id": a.id, "perpetrator_id": perp_id, "degree": inv.degree}
                    )
        for pos, s in enumerate(inc.sources):
            s.id = self.r.new_id()
            rows["sources"].append({
                "id": s.id, "incident_id": i, "position": pos, "source_type": s.source_type,
                "reliability": s.reliability,
                "identity_ct": seal("sources", s.id, "identity", v, s.identity),
                "description_ct": seal("sources", s.id, "description", v, s.description),
                "obtained_on": s.obtained_on,
            })  # fmt: skip
        for pos, t in enumerate(inc.interventions):
            t.id = self.r.new_id()
            rows["interventions"].append({
                "id": t.id, "incident_id": i, "position": pos,
                "intervention_date": t.intervention_date,
                "intervener_ct": seal("interventions", t.id, "intervener", v, t.intervener),
                "response_ct": seal("interventions", t.id, "response", v, t.response),
                "status": t.status, "priority": t.priority,
            })  # fmt: skip
        for link in inc.links:
            rows["incident_links"].append(
                {"incident_id": i, "related_id": link.related_id, "relation": link.relation}
            )
        texts: dict[str, builtins.list[str | None]] = {
            "title": [inc.title],
            "narrative": [inc.narrative],
            "place": [inc.place, inc.region],
            "people": [p.name for p in inc.perpetrators] + [a.victim_description for a in inc.acts],
            "details": [p.description for p in inc.perpetrators]
            + [s.description for s in inc.sources]
            + [t.response for t in inc.interventions],
        }
        rows["search_docs"].append(
            {"entity_id": i, "tokens": tokens_for_fields(self.r.keyring, ENTITY, texts)}
        )
        del created

    def _collect_version(
        self,
        rows: dict[str, builtins.list[dict[str, Any]]],
        sealer: CaseSealer,
        inc: Incident,
        action: str,
        changed: builtins.list[str],
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        assert inc.id
        record = snapshot if snapshot is not None else inc.to_dict()
        rows["record_versions"].append({
            "entity": ENTITY, "entity_id": inc.id, "version": inc.version,
            "case_id": sealer.case_id, "at": self.r.clock.now(), "actor": self.r.actor,
            "action": action, "changed_fields": ",".join(changed),
            "snapshot_ct": seal_snapshot(sealer, ENTITY, inc.id, inc.version, record),
        })  # fmt: skip

    def _load(self, conn: Connection, incident_id: str) -> Incident:
        row = conn.execute(sa.select(I).where(I.c.id == incident_id)).first()
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        sealer = sealer_for(conn, self.r.keyring, row.case_id)
        return _incident_from_rows(conn, sealer, row)


CHILD_TABLES = ("perpetrators", "acts", "sources", "interventions")


@dataclass
class _Children:
    """The rows that hang off one incident, each list in its stored order."""

    perpetrators: builtins.list[Row[Any]] = field(default_factory=list)
    acts: builtins.list[Row[Any]] = field(default_factory=list)
    sources: builtins.list[Row[Any]] = field(default_factory=list)
    interventions: builtins.list[Row[Any]] = field(default_factory=list)
    involvements: builtins.list[Row[Any]] = field(default_factory=list)
    links: builtins.list[Row[Any]] = field(default_factory=list)


def _children_of(conn: Connection, incident_ids: Sequence[str]) -> dict[str, _Children]:
    """The child rows of many incidents, one query per table rather than per incident
    (an export of the registry on PostgreSQL paid a round trip per table and record)."""
    s = schema
    out: dict[str, _Children] = {i: _Children() for i in incident_ids}
    for name in CHILD_TABLES:
        table = s.metadata.tables[name]
        for row in conn.execute(
            sa.select(table)
            .where(table.c.incident_id.in_(incident_ids))
            .order_by(table.c.incident_id, table.c.position)
        ):
            getattr(out[row.incident_id], name).append(row)
    incident_of_act = {a.id: i for i, c in out.items() for a in c.acts}
    act_ids = list(incident_of_act)
    for start in range(0, len(act_ids), BATCH):
        for inv in conn.execute(
            sa.select(s.involvements).where(
                s.involvements.c.act_id.in_(act_ids[start : start + BATCH])
            )
        ):
            out[incident_of_act[inv.act_id]].involvements.append(inv)
    L = s.incident_links
    for link in conn.execute(
        sa.select(L)
        .where(L.c.incident_id.in_(incident_ids))
        .order_by(L.c.incident_id, L.c.related_id)
    ):
        out[link.incident_id].links.append(link)
    return out


def _load_many(
    conn: Connection, keyring: Keyring, incident_ids: Sequence[str]
) -> builtins.list[Incident]:
    """Whole incidents in the order asked; ids that do not exist are skipped."""
    if not incident_ids:
        return []
    rows = {r.id: r for r in conn.execute(sa.select(I).where(I.c.id.in_(incident_ids)))}
    children = _children_of(conn, [i for i in incident_ids if i in rows])
    sealers: dict[str, CaseSealer] = {}
    out = []
    for incident_id in incident_ids:
        row = rows.get(incident_id)
        if row is None:
            continue
        sealer = sealers.get(row.case_id)
        if sealer is None:
            sealer = sealers[row.case_id] = sealer_for(conn, keyring, row.case_id)
        out.append(_incident_from_parts(sealer, row, children[incident_id]))
    return out


def _incident_from_rows(conn: Connection, sealer: CaseSealer, row: Row[Any]) -> Incident:
    return _incident_from_parts(sealer, row, _children_of(conn, [row.id])[row.id])


def _incident_from_parts(sealer: CaseSealer, row: Row[Any], children: _Children) -> Incident:
    v, i = row.version, row.id
    o = sealer.open
    perp_rows, act_rows = children.perpetrators, children.acts
    perp_index = {p.id: n for n, p in enumerate(perp_rows)}
    involvements: dict[str, builtins.list[Involvement]] = defaultdict(list)
    for inv in children.involvements:
        involvements[inv.act_id].append(Involvement(perp_index[inv.perpetrator_id], inv.degree))
    for invs in involvements.values():
        invs.sort(key=lambda x: x.perpetrator)
    return Incident(
        id=i,
        case_id=row.case_id,
        version=v,
        title=o("incidents", i, "title", v, row.title_ct) or "",
        narrative=o("incidents", i, "narrative", v, row.narrative_ct),
        date_start=ApproxDate(row.date_start, row.date_precision),
        date_end=row.date_end,
        country=row.country,
        region=row.region,
        place=o("incidents", i, "place", v, row.place_ct),
        location_precision=row.location_precision,
        violation_status=row.violation_status,
        counting_unit=row.counting_unit,
        confidential=row.confidential,
        notes=sealer.open_json("incidents", i, "notes", v, row.notes_ct) or {},
        perpetrators=[
            Perpetrator(
                perpetrator_type=p.perpetrator_type,
                name=o("perpetrators", p.id, "name", v, p.name_ct),
                description=o("perpetrators", p.id, "description", v, p.description_ct),
                id=p.id,
            )
            for p in perp_rows
        ],
        acts=[
            Act(
                id=a.id,
                act_type=a.act_type,
                victim_defender_id=a.victim_defender_id,
                victim_person_id=a.victim_person_id,
                victim_description=o(
                    "acts", a.id, "victim_description", v, a.victim_description_ct
                ),
                act_date=a.act_date,
                gender_specific=a.gender_specific,
                gender_features=schema.codes_from_column(a.gender_features),
                target_relation=a.target_relation,
                modality=a.modality,
                collective=a.collective,
                people_affected=a.people_affected,
                previously_threatened=a.previously_threatened,
                business_company=o("acts", a.id, "business_company", v, a.business_company_ct),
                business_sector=a.business_sector,
                involvements=involvements.get(a.id, []),
            )
            for a in act_rows
        ],
        sources=[
            Source(
                id=src.id,
                source_type=src.source_type,
                reliability=src.reliability,
                identity=o("sources", src.id, "identity", v, src.identity_ct),
                description=o("sources", src.id, "description", v, src.description_ct),
                obtained_on=src.obtained_on,
            )
            for src in children.sources
        ],
        interventions=[
            Intervention(
                id=t.id,
                status=t.status,
                priority=t.priority,
                intervention_date=t.intervention_date,
                intervener=o("interventions", t.id, "intervener", v, t.intervener_ct),
                response=o("interventions", t.id, "response", v, t.response_ct),
            )
            for t in children.interventions
        ],
        links=[Link(related_id=lk.related_id, relation=lk.relation) for lk in children.links],
    )


INSERT_ORDER = (
    "cases", "case_grants", "incidents", "perpetrators", "acts", "involvements", "sources",
    "interventions", "incident_links", "record_versions", "search_docs",
)  # fmt: skip


def _insert_rows(conn: Connection, rows: Mapping[str, builtins.list[dict[str, Any]]]) -> None:
    for name in INSERT_ORDER:
        if name == "search_docs":
            index_docs(conn, [(r["entity_id"], r["tokens"]) for r in rows.get(name, [])])
        elif rows.get(name):
            conn.execute(sa.insert(schema.metadata.tables[name]), rows[name])


Rows = dict[str, builtins.list[dict[str, Any]]]


class _BatchWriter:
    """Stores prepared batches on a second thread, one transaction per batch, in order."""

    def __init__(
        self, store: Store, store_batch: Callable[[Connection, Rows, builtins.list[str]], None]
    ) -> None:
        self.store = store
        self.store_batch = store_batch
        self.queue: queue.Queue[
            tuple[dict[str, builtins.list[dict[str, Any]]], builtins.list[str]] | None
        ] = queue.Queue(maxsize=2)
        self.committed: builtins.list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="amparo-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain: after a failure nothing more is written
            rows, added = item
            try:
                with self.store.write() as conn:
                    self.store_batch(conn, rows, added)
                self.committed.extend(added)
            except BaseException as exc:  # re-raised on the caller's thread
                self.error = exc

    def submit(
        self, rows: dict[str, builtins.list[dict[str, Any]]], added: builtins.list[str]
    ) -> None:
        if self.error is not None:
            self._raise()
        self.queue.put((rows, added))

    def close(self) -> builtins.list[str]:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            self._raise()
        return self.committed

    def _raise(self) -> None:
        error = self.error
        assert error is not None
        if isinstance(error, AmparoError):
            raise type(error)(
                f"{error} ({len(self.committed)} incidents were stored before the failure)"
            ) from error
        raise error


def _delete_children(conn: Connection, incident_id: str) -> None:
    s = schema
    act_ids = sa.select(A.c.id).where(A.c.incident_id == incident_id)
    conn.execute(sa.delete(s.involvements).where(s.involvements.c.act_id.in_(act_ids)))
    for table in (s.acts, s.perpetrators, s.sources, s.interventions, s.incident_links):
        conn.execute(sa.delete(table).where(table.c.incident_id == incident_id))


def _pseudonym(key: bytes, prefix: str, record_id: str | None) -> str | None:
    if record_id is None:
        return None
    return f"{prefix}-{hmac.new(key, record_id.encode(), hashlib.sha256).hexdigest()[:12]}"


def _sort_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _filtered(q: IncidentFilter) -> sa.Select[Any]:
    s = schema
    stmt = sa.select(
        I.c.id, I.c.case_id, I.c.version, I.c.title_ct, I.c.date_start, I.c.date_precision,
        I.c.country, I.c.region, I.c.violation_status,
    )  # fmt: skip
    if q.country:
        stmt = stmt.where(I.c.country == q.country.upper())
    if q.region:
        stmt = stmt.where(I.c.region == q.region)
    if q.case_id:
        stmt = stmt.where(I.c.case_id == q.case_id)
    if q.year:
        stmt = stmt.where(I.c.date_start.between(date(q.year, 1, 1), date(q.year, 12, 31)))
    if q.date_from:
        stmt = stmt.where(I.c.date_start >= q.date_from)
    if q.date_to:
        stmt = stmt.where(I.c.date_start <= q.date_to)
    act_conditions = []
    if q.act_type:
        act_conditions.append(A.c.act_type == q.act_type)
    if q.modality:
        act_conditions.append(A.c.modality == q.modality)
    if q.gender_specific:
        act_conditions.append(A.c.gender_specific == q.gender_specific)
    if q.gender_feature:
        act_conditions.append(A.c.gender_features.contains(f",{q.gender_feature},",
                                                           autoescape=True))  # fmt: skip
    if q.defender_id:
        act_conditions.append(A.c.victim_defender_id == q.defender_id)
    if act_conditions:
        stmt = stmt.where(sa.exists().where(A.c.incident_id == I.c.id, *act_conditions))
    defender_conditions = []
    if q.gender_identity:
        defender_conditions.append(s.defenders.c.gender_identity == q.gender_identity)
    if q.sector:
        defender_conditions.append(s.defenders.c.sectors.contains(f",{q.sector},", autoescape=True))
    if defender_conditions:
        stmt = stmt.where(
            sa.exists()
            .select_from(A.join(s.defenders, A.c.victim_defender_id == s.defenders.c.id))
            .where(A.c.incident_id == I.c.id, *defender_conditions)
        )
    if q.perpetrator_type:
        p = s.perpetrators
        stmt = stmt.where(
            sa.exists().where(p.c.incident_id == I.c.id, p.c.perpetrator_type == q.perpetrator_type)
        )
    return stmt


class _References:
    """Checks that victims and linked incidents exist, within the writing transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._defenders: dict[str, tuple[str, str | None] | None] = {}

    def prefetch(self, defender_ids: Iterable[str]) -> None:
        wanted = sorted(set(defender_ids) - set(self._defenders))
        d = schema.defenders
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found = {
                r.id: (r.case_id, r.merged_into)
                for r in self.conn.execute(
                    sa.select(d.c.id, d.c.case_id, d.c.merged_into).where(d.c.id.in_(chunk))
                )
            }
            for defender_id in chunk:
                self._defenders[defender_id] = found.get(defender_id)

    def _defender(self, defender_id: str) -> tuple[str, str | None] | None:
        if defender_id not in self._defenders:
            d = schema.defenders
            row = self.conn.execute(
                sa.select(d.c.case_id, d.c.merged_into).where(d.c.id == defender_id)
            ).first()
            self._defenders[defender_id] = None if row is None else (row[0], row[1])
        return self._defenders[defender_id]

    def check(self, inc: Incident, self_id: str | None = None) -> None:
        errors: builtins.list[ValidationError] = []
        for n, act in enumerate(inc.acts):
            if act.victim_defender_id:
                found = self._defender(act.victim_defender_id)
                if found is None:
                    errors.append(
                        ValidationError(
                            f"acts[{n}].victim_defender_id", f"no defender {act.victim_defender_id}"
                        )
                    )
                elif found[1]:  # merged: follow to the surviving profile
                    act.victim_defender_id = found[1]
            if act.victim_person_id:
                cp = schema.close_people
                owner = self.conn.execute(
                    sa.select(cp.c.defender_id).where(cp.c.id == act.victim_person_id)
                ).scalar()
                if owner is None:
                    errors.append(
                        ValidationError(
                            f"acts[{n}].victim_person_id", f"no close person {act.victim_person_id}"
                        )
                    )
        for n, link in enumerate(inc.links):
            if link.related_id == self_id:
                errors.append(ValidationError(f"links[{n}].related_id", "links to itself"))
            elif (
                self.conn.execute(sa.select(I.c.id).where(I.c.id == link.related_id)).first()
                is None
            ):
                errors.append(
                    ValidationError(f"links[{n}].related_id", f"no incident {link.related_id}")
                )
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ValidationErrors(errors)

    def case_of_victim(self, inc: Incident) -> str | None:
        for act in inc.acts:
            if act.victim_defender_id:
                found = self._defender(act.victim_defender_id)
                if found:
                    return found[0]
        return None


def _case_hint(data: Mapping[str, Any]) -> str | None:
    value = data.get("case_id")
    return value if isinstance(value, str) and value else None


def _editable(record: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in ("id", "case_id", "version")}
    for act in out.get("acts", []):
        act.pop("id", None)
    for key in ("perpetrators", "sources", "interventions"):
        for item in out.get(key, []):
            item.pop("id", None)
    return out
