"""Defender profiles: people, collectives and organisations, and those close to them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.audit import filter_names
from amparo.domain.models import CloseParty, Consent, Defender, parse_defender
from amparo.errors import Conflict, Forbidden, NotFound, ValidationError
from amparo.security.permissions import Resource
from amparo.services.lookup import resolve_prefix
from amparo.services.paging import apply_sort, parse_sort
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.search_index import (
    count_matches,
    index_docs,
    matching_ids,
    remove_docs,
    replace_doc,
    tokens_for_fields,
)
from amparo.services.versions import FieldChange, VersionInfo, VersionReader, changed_fields
from amparo.services.versions import record_version as _record_version
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["DefenderFilter", "DefenderService", "DefenderSummary"]

D = schema.defenders
ENTITY = "defender"
SORTS: dict[str, sa.ColumnElement[Any]] = {
    "created": D.c.id,  # ids are time-ordered
    "country": D.c.country,
    "updated": D.c.updated_at,
}
IDS_FIRST_UP_TO = 1_000  # PostgreSQL: keyword matches up to this many are fetched as ids first
SEARCH_FIELDS = ("display_name", "legal_name", "aliases", "organisations", "notes", "close")


@dataclass(frozen=True)
class DefenderFilter:
    country: str | None = None
    region: str | None = None
    gender_identity: str | None = None
    sector: str | None = None
    kind: str | None = None
    case_id: str | None = None
    text: str | None = None
    include_merged: bool = False
    limit: int | None = None
    offset: int = 0
    sort: str = "created"  # a key of SORTS, '-' for descending
    after: tuple[str | None, str] | None = None  # keyset: (sort value, id) of the last row seen


@dataclass(frozen=True)
class DefenderSummary:
    id: str
    case_id: str
    kind: str
    display_name: str
    gender_identity: str | None
    country: str | None
    region: str | None
    sectors: builtins.list[str] = field(default_factory=list)
    merged_into: str | None = None
    sort_value: str | None = field(default=None, compare=False, repr=False)  # for cursors

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "kind": self.kind,
            "display_name": self.display_name,
            "gender_identity": self.gender_identity,
            "country": self.country,
            "region": self.region,
            "sectors": self.sectors,
            "merged_into": self.merged_into,
        }


class DefenderService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry
        self.versions = VersionReader(registry, ENTITY)

    # -- writing ------------------------------------------------------------------------
    def add(self, data: Mapping[str, Any], *, case_id: str | None = None) -> Defender:
        self.r.require("create", Resource("registry"))
        if case_id is not None:
            self.r.require("write", Resource("case", case_id))
        defender = parse_defender(data, self.r.vocab, self.r.clock.today())
        with self.r.store.write() as conn:
            defender.id = self.r.new_id()
            defender.case_id = case_id or self.r.cases.create(conn=conn)
            self._check_case(conn, defender.case_id)
            defender.version = 1
            sealer = sealer_for(conn, self.r.keyring, defender.case_id)
            self._insert(conn, sealer, defender, fresh=True)
            self._version(
                conn, sealer, defender, "create", changed_fields(None, defender.to_dict())
            )
            self._audit(conn, "create", defender.id, case=defender.case_id, version=1)
        return defender

    def amend(
        self, defender_id: str, changes: Mapping[str, Any], *, expected_version: int | None = None
    ) -> Defender:
        with self.r.store.write() as conn:
            current = self._load(conn, defender_id)
            self._require(current, "write")
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"defender {defender_id} is at version {current.version}, "
                    f"not {expected_version}: someone changed it meanwhile"
                )
            merged = {**_editable(current.to_dict()), **dict(changes)}
            updated = parse_defender(merged, self.r.vocab, self.r.clock.today())
            return self._replace(conn, current, updated, "amend", audit=True)

    def _replace(
        self, conn: Connection, current: Defender, updated: Defender, action: str,
        *, audit: bool = False,
    ) -> Defender:  # fmt: skip
        assert current.id and current.case_id
        updated.id, updated.case_id = current.id, current.case_id
        updated.merged_into = current.merged_into
        updated.version = current.version + 1
        sealer = sealer_for(conn, self.r.keyring, current.case_id)
        self._delete_rows(conn, current.id, keep_people={p.id for p in updated.close_people})
        self._insert(conn, sealer, updated, fresh=False)
        changed = changed_fields(current.to_dict(), updated.to_dict())
        self._version(conn, sealer, updated, action, changed)
        if audit:
            self._audit(conn, action, current.id, version=updated.version, fields=changed)
        return updated

    def _audit(self, conn: Connection, action: str, defender_id: str, **detail: object) -> None:
        self.r.audit.record(
            conn, f"defender.{action}", object_type=ENTITY, object_id=defender_id, detail=detail
        )

    def delete(self, defender_id: str) -> None:
        with self.r.store.write() as conn:
            current = self._load(conn, defender_id)
            self._require(current, "delete")
            in_use = conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.acts)
                .where(schema.acts.c.victim_defender_id == defender_id)
            ).scalar_one()
            if in_use:
                raise Conflict(
                    f"defender {defender_id} is the victim of {in_use} act(s); "
                    "merge or amend those incidents first"
                )
            assert current.case_id
            sealer = sealer_for(conn, self.r.keyring, current.case_id)
            self._delete_rows(conn, defender_id, keep_people=set())
            remove_docs(conn, [defender_id])
            conn.execute(sa.delete(D).where(D.c.id == defender_id))
            current.version += 1
            self._version(conn, sealer, current, "delete", [], snapshot=current.to_dict())
            self._audit(conn, "delete", defender_id, version=current.version)

    def restore(self, defender_id: str, version: int) -> Defender:
        self.r.require_in_case("write", ENTITY, defender_id, self.versions.case_of(defender_id))
        snapshot = self.versions.snapshot(defender_id, version)
        if snapshot is None:
            raise NotFound(f"defender {defender_id} version {version} holds no record")
        with self.r.store.write() as conn:
            restored = parse_defender(_editable(snapshot), self.r.vocab, self.r.clock.today())
            exists = conn.execute(sa.select(D.c.id).where(D.c.id == defender_id)).first()
            if exists:
                current = self._load(conn, defender_id)
                return self._replace(conn, current, restored, "restore", audit=True)
            last = self.history(defender_id)[-1]
            restored.id, restored.case_id = defender_id, snapshot["case_id"]
            restored.version = last.version + 1
            sealer = sealer_for(conn, self.r.keyring, snapshot["case_id"])
            self._insert(conn, sealer, restored, fresh=True)
            self._version(conn, sealer, restored, "restore", ["*"])
            self._audit(conn, "restore", defender_id, version=restored.version, fields="*")
            return restored

    def merge(self, keep_id: str, duplicate_id: str) -> Defender:
        """Fold a duplicate profile into ``keep_id``; acts follow; provenance is kept."""
        if keep_id == duplicate_id:
            raise ValidationError("duplicate_id", "cannot merge a profile into itself")
        with self.r.store.write() as conn:
            keep = self._load(conn, keep_id)
            dup = self._load(conn, duplicate_id)
            self._require(keep, "write")
            self._require(dup, "write")
            if keep.merged_into or dup.merged_into:
                raise Conflict("one of these profiles was already merged into another")
            combined = keep.to_dict()
            extra_names = [dup.display_name, *dup.aliases]
            if dup.legal_name and dup.legal_name != keep.legal_name:
                extra_names.append(dup.legal_name)
            combined["aliases"] = _union(
                keep.aliases, [n for n in extra_names if n != keep.display_name]
            )
            combined["sectors"] = _union(keep.sectors, dup.sectors)
            combined["organisations"] = _union(keep.organisations, dup.organisations)
            for key in ("legal_name", "sex", "gender_identity", "sexual_orientation",
                        "birth_year", "age_band", "nationality", "country", "region",
                        "contacts"):  # fmt: skip
                if combined.get(key) in (None, "") and getattr(dup, key) not in (None, ""):
                    combined[key] = getattr(dup, key)
            notes = [n for n in (keep.notes, dup.notes) if n]
            combined["notes"] = "\n\n".join(notes) if notes else None
            combined["close_people"] = [
                {"relation": p.relation, "name": p.name, "notes": p.notes, "id": p.id}
                for p in keep.close_people
            ] + [
                {"relation": p.relation, "name": p.name, "notes": p.notes} for p in dup.close_people
            ]
            combined["consents"] = [c.to_dict() for c in keep.consents + dup.consents]
            for consent in combined["consents"]:
                consent.pop("id", None)
            combined["confidential"] = keep.confidential or dup.confidential
            updated = parse_defender(_editable(combined), self.r.vocab, self.r.clock.today())
            result = self._replace(conn, keep, updated, f"merge:{duplicate_id}")
            # Close people of the duplicate now live under keep with new ids: point acts there.
            new_people = result.close_people[len(keep.close_people) :]
            for old, new in zip(dup.close_people, new_people, strict=True):
                conn.execute(
                    sa.update(schema.acts)
                    .where(schema.acts.c.victim_person_id == old.id)
                    .values(victim_person_id=new.id)
                )
            conn.execute(
                sa.update(schema.acts)
                .where(schema.acts.c.victim_defender_id == duplicate_id)
                .values(victim_defender_id=keep_id)
            )
            assert dup.case_id
            dup_sealer = sealer_for(conn, self.r.keyring, dup.case_id)
            self._delete_rows(conn, duplicate_id, keep_people=set())
            # The duplicate stays as a hidden tombstone pointing at the survivor, re-sealed at
            # its new version (values are bound to the version); its people moved over.
            dup.version += 1
            dup.merged_into = keep_id
            dup.close_people, dup.consents = [], []
            self._insert(conn, dup_sealer, dup, fresh=False)
            remove_docs(conn, [duplicate_id])
            self._version(conn, dup_sealer, dup, f"merged_into:{keep_id}", ["merged_into"])
            self._audit(conn, "merge", keep_id, duplicate=duplicate_id, version=result.version)
            return result

    # -- reading ------------------------------------------------------------------------
    def resolve(self, id_or_prefix: str) -> str:
        with self.r.store.read() as conn:
            return resolve_prefix(conn, D, id_or_prefix, "defender")

    def get(self, defender_id: str) -> Defender:
        """One profile in full; the read is audited."""
        with self.r.store.read() as conn:
            defender = self._load(conn, defender_id)
        self._require(defender, "read_identity")
        self.r.audit.record_alone("defender.read", object_type=ENTITY, object_id=defender_id,
                                  detail={"version": defender.version})  # fmt: skip
        return defender

    def list(self, query: DefenderFilter | None = None) -> builtins.list[DefenderSummary]:
        """Summaries with names: one audit entry per call, never the filter values."""
        q = query or DefenderFilter()
        out = self._list(q)
        self.r.audit.record_alone(
            "defender.list", object_type=ENTITY,
            detail={"count": len(out), "filters": filter_names(q)},
        )  # fmt: skip
        return out

    def _list(self, q: DefenderFilter) -> builtins.list[DefenderSummary]:
        sort_name, descending = parse_sort(q.sort, SORTS)
        stmt: sa.Select[Any] = sa.select(
            D.c.id, D.c.case_id, D.c.kind, D.c.display_name_ct, D.c.version, D.c.gender_identity,
            D.c.country, D.c.region, D.c.sectors, D.c.merged_into,
            SORTS[sort_name].label("sort_value"),
        )  # fmt: skip
        stmt = apply_sort(stmt, SORTS[sort_name], D.c.id, descending, q.after)
        if not q.include_merged:
            stmt = stmt.where(D.c.merged_into.is_(None))
        if q.country:
            stmt = stmt.where(D.c.country == q.country.upper())
        if q.region:
            stmt = stmt.where(D.c.region == q.region)
        if q.gender_identity:
            stmt = stmt.where(D.c.gender_identity == q.gender_identity)
        if q.kind:
            stmt = stmt.where(D.c.kind == q.kind)
        if q.case_id:
            stmt = stmt.where(D.c.case_id == q.case_id)
        if q.sector:
            stmt = stmt.where(D.c.sectors.contains(f",{q.sector},", autoescape=True))
        visible = self.r.visible_cases()
        if visible is not None:  # need-to-know: only cases the principal is a member of
            if not visible:
                return []
            stmt = stmt.where(in_cases(D.c.case_id, visible, self.r.store.dialect))
        with self.r.store.read() as conn:
            if q.text:
                matches = matching_ids(
                    self.r.keyring, conn.dialect.name, ENTITY, SEARCH_FIELDS, q.text
                )
                if matches is None:
                    return []
                if conn.dialect.name == "postgresql" and (
                    count_matches(conn, matches, IDS_FIRST_UP_TO + 1) <= IDS_FIRST_UP_TO
                ):
                    # PostgreSQL overestimates a GIN match (thousands of rows for two) and
                    # merge-joins every search document: 0.7 s at 100,000. Fetched first,
                    # the few ids make it an index lookup.
                    ids = [row[0] for row in conn.execute(matches)]
                    if not ids:
                        return []
                    stmt = stmt.where(D.c.id.in_(ids))
                else:
                    stmt = stmt.where(D.c.id.in_(matches))
            if q.limit is not None:
                stmt = stmt.limit(q.limit).offset(q.offset)
            out = []
            for row in conn.execute(stmt):
                sealer = sealer_for(conn, self.r.keyring, row.case_id)
                out.append(
                    DefenderSummary(
                        id=row.id,
                        case_id=row.case_id,
                        kind=row.kind,
                        display_name=sealer.open(
                            "defenders", row.id, "display_name", row.version, row.display_name_ct
                        )
                        or "",
                        gender_identity=row.gender_identity,
                        country=row.country,
                        region=row.region,
                        sectors=schema.codes_from_column(row.sectors),
                        merged_into=row.merged_into,
                        sort_value=None
                        if row.sort_value is None
                        else (
                            row.sort_value.isoformat()
                            if isinstance(row.sort_value, datetime)
                            else str(row.sort_value)
                        ),
                    )
                )
        return out

    def search(self, text: str, limit: int | None = None) -> builtins.list[DefenderSummary]:
        return self.list(DefenderFilter(text=text, limit=limit))

    def history(self, defender_id: str) -> builtins.list[VersionInfo]:
        self.r.require_in_case(
            "read_identity", ENTITY, defender_id, self.versions.case_of(defender_id)
        )
        return self.versions.history(defender_id)

    def diff(self, defender_id: str, old: int, new: int) -> builtins.list[FieldChange]:
        self.r.require_in_case(
            "read_identity", ENTITY, defender_id, self.versions.case_of(defender_id)
        )
        changes = self.versions.diff(defender_id, old, new)
        with self.r.store.write() as conn:
            self._audit(conn, "diff", defender_id, versions=f"{old},{new}")
        return changes

    def count(self) -> int:
        if not (
            self.r.allowed("read_aggregates", Resource("registry"))
            or self.r.allowed("read", Resource("registry"))
        ):
            raise Forbidden("not allowed to count defenders")
        with self.r.store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(D).where(D.c.merged_into.is_(None))
                ).scalar_one()
            )

    def _require(self, defender: Defender, action: str) -> None:
        assert defender.id and defender.case_id
        self.r.require_in_case(action, ENTITY, defender.id, defender.case_id)

    # -- rows ---------------------------------------------------------------------------
    def _check_case(self, conn: Connection, case_id: str) -> None:
        sealer_for(conn, self.r.keyring, case_id)  # raises for unknown or shredded cases

    def _version(
        self,
        conn: Connection,
        sealer: CaseSealer,
        d: Defender,
        action: str,
        changed: builtins.list[str],
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        assert d.id
        _record_version(
            conn, sealer, entity=ENTITY, entity_id=d.id, version=d.version, action=action,
            changed=changed, snapshot=snapshot if snapshot is not None else d.to_dict(),
            at=self.r.clock.now(), actor=self.r.actor,
        )  # fmt: skip

    def _insert(self, conn: Connection, sealer: CaseSealer, d: Defender, *, fresh: bool) -> None:
        assert d.id and d.case_id
        now, v, i = self.r.clock.now(), d.version, d.id
        values = {
            "id": i,
            "case_id": d.case_id,
            "kind": d.kind,
            "display_name_ct": sealer.seal("defenders", i, "display_name", v, d.display_name),
            "legal_name_ct": sealer.seal("defenders", i, "legal_name", v, d.legal_name),
            "aliases_ct": sealer.seal_json("defenders", i, "aliases", v, d.aliases),
            "sex": d.sex,
            "gender_identity": d.gender_identity,
            "sexual_orientation": d.sexual_orientation,
            "birth_year": d.birth_year,
            "age_band": d.age_band,
            "nationality": d.nationality,
            "country": d.country,
            "region": d.region,
            "sectors": schema.codes_column(d.sectors),
            "organisations_ct": sealer.seal_json(
                "defenders", i, "organisations", v, d.organisations
            ),
            "contacts_ct": sealer.seal("defenders", i, "contacts", v, d.contacts),
            "notes_ct": sealer.seal("defenders", i, "notes", v, d.notes),
            "confidential": d.confidential,
            "merged_into": d.merged_into,
            "version": v,
            "updated_at": now,
            "updated_by": self.r.actor,
        }
        if fresh:
            values |= {"created_at": now, "created_by": self.r.actor}
            conn.execute(sa.insert(D), [values])
        else:
            conn.execute(sa.update(D).where(D.c.id == i).values(**values))
        cp = schema.close_people
        existing = (
            set()
            if fresh
            else {r[0] for r in conn.execute(sa.select(cp.c.id).where(cp.c.defender_id == i))}
        )
        people = []
        for pos, person in enumerate(d.close_people):
            pid = person.id if person.id in existing and person.id else self.r.new_id()
            person.id = pid
            row = {
                "id": pid, "defender_id": i, "position": pos, "relation": person.relation,
                "name_ct": sealer.seal("close_people", pid, "name", v, person.name),
                "notes_ct": sealer.seal("close_people", pid, "notes", v, person.notes),
            }  # fmt: skip
            if pid in existing:
                conn.execute(sa.update(cp).where(cp.c.id == person.id).values(**row))
            else:
                people.append(row)
        if people:
            conn.execute(sa.insert(cp), people)
        consents = []
        for pos, consent in enumerate(d.consents):
            consent.id = self.r.new_id()
            consents.append({
                "id": consent.id, "defender_id": i, "position": pos, "purpose": consent.purpose,
                "granted": consent.granted, "name_choice": consent.name_choice,
                "recorded_on": consent.recorded_on, "expires_on": consent.expires_on,
                "note_ct": sealer.seal("consents", consent.id, "note", v, consent.note),
            })  # fmt: skip
        if consents:
            conn.execute(sa.insert(schema.consents), consents)
        tokens = tokens_for_fields(
            self.r.keyring, ENTITY,
            {
                "display_name": [d.display_name], "legal_name": [d.legal_name],
                "aliases": d.aliases, "organisations": d.organisations, "notes": [d.notes],
                "close": [p.name for p in d.close_people],
            },
        )  # fmt: skip
        if fresh:
            index_docs(conn, [(i, tokens)])
        else:
            replace_doc(conn, i, tokens)

    def _delete_rows(
        self, conn: Connection, defender_id: str, keep_people: set[str | None]
    ) -> None:
        """Remove consents and the close people not kept; acts lose links to removed people."""
        conn.execute(sa.delete(schema.consents).where(schema.consents.c.defender_id == defender_id))
        cp = schema.close_people
        gone = [
            r[0]
            for r in conn.execute(sa.select(cp.c.id).where(cp.c.defender_id == defender_id))
            if r[0] not in keep_people
        ]
        if gone:
            conn.execute(
                sa.update(schema.acts)
                .where(schema.acts.c.victim_person_id.in_(gone))
                .values(victim_person_id=None)
            )
            conn.execute(sa.delete(cp).where(cp.c.id.in_(gone)))

    def _load(self, conn: Connection, defender_id: str) -> Defender:
        row = conn.execute(sa.select(D).where(D.c.id == defender_id)).first()
        if row is None:
            raise NotFound(f"no defender {defender_id}")
        sealer = sealer_for(conn, self.r.keyring, row.case_id)
        return self._from_row(conn, sealer, row)

    def _from_row(self, conn: Connection, sealer: CaseSealer, row: Row[Any]) -> Defender:
        v, i = row.version, row.id
        people = [
            CloseParty(
                relation=p.relation,
                name=sealer.open("close_people", p.id, "name", v, p.name_ct) or "",
                notes=sealer.open("close_people", p.id, "notes", v, p.notes_ct),
                id=p.id,
            )
            for p in conn.execute(
                sa.select(schema.close_people)
                .where(schema.close_people.c.defender_id == i)
                .order_by(schema.close_people.c.position)
            )
        ]
        consents = [
            Consent(
                purpose=c.purpose,
                granted=c.granted,
                recorded_on=c.recorded_on,
                name_choice=c.name_choice,
                expires_on=c.expires_on,
                note=sealer.open("consents", c.id, "note", v, c.note_ct),
                id=c.id,
            )
            for c in conn.execute(
                sa.select(schema.consents)
                .where(schema.consents.c.defender_id == i)
                .order_by(schema.consents.c.position)
            )
        ]
        return Defender(
            id=i,
            case_id=row.case_id,
            version=v,
            kind=row.kind,
            display_name=sealer.open("defenders", i, "display_name", v, row.display_name_ct) or "",
            legal_name=sealer.open("defenders", i, "legal_name", v, row.legal_name_ct),
            aliases=sealer.open_json("defenders", i, "aliases", v, row.aliases_ct) or [],
            sex=row.sex,
            gender_identity=row.gender_identity,
            sexual_orientation=row.sexual_orientation,
            birth_year=row.birth_year,
            age_band=row.age_band,
            nationality=row.nationality,
            country=row.country,
            region=row.region,
            sectors=schema.codes_from_column(row.sectors),
            organisations=sealer.open_json("defenders", i, "organisations", v, row.organisations_ct)
            or [],
            contacts=sealer.open("defenders", i, "contacts", v, row.contacts_ct),
            notes=sealer.open("defenders", i, "notes", v, row.notes_ct),
            confidential=row.confidential,
            merged_into=row.merged_into,
            close_people=people,
            consents=consents,
        )


def _editable(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a caller may set (bookkeeping is the service's)."""
    return {k: v for k, v in record.items() if k not in ("id", "case_id", "version", "merged_into")}


def _union(first: builtins.list[str], second: builtins.list[str]) -> builtins.list[str]:
    return list(dict.fromkeys([*first, *second]))
