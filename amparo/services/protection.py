"""Protection cases: the case (the need-to-know container) with whom it protects, its officer,
status and priority; its protection plan (preventive and emergency measures, each with owner,
due date, status and outcome); and urgent actions worked through checklists.

Measures use the standard intervention status and priority vocabularies. Descriptions, owners
and outcomes are identities (ciphertext); kinds, dates, statuses and the risk item a measure
answers are coded facets.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["CHECKLISTS", "PROTECTION_STATUSES", "Measure", "ProtectionCase", "ProtectionService",
           "UrgentAction"]  # fmt: skip

C = schema.cases
M = schema.protection_measures
U = schema.urgent_actions
PROTECTION_STATUSES = ("intake", "active", "monitoring", "closed")
MEASURE_KINDS = ("preventive", "emergency")
MAX_TEXT = 4_000

# Urgent-action checklists: step code -> what to do (labels are translated in the pages).
CHECKLISTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "un_appeal": (
        (
            "consent",
            "Informed consent: she knows the State will be contacted and a summary "
            "published; name or initials chosen",
        ),
        (
            "facts",
            "Blocks A-D written: victim, work and its link to the attack, violation, perpetrators",
        ),
        ("domestic", "Action taken nationally and its outcome recorded (block E)"),
        ("request", "Urgent appeal requested for ongoing or imminent harm (block H)"),
        ("sent", "Sent to the Special Rapporteur on human rights defenders"),
        ("follow_up", "Follow-up with the mandate recorded"),
    ),
    "emergency_grant": (
        ("needs", "Needs and budget agreed with her"),
        ("fund", "Emergency fund chosen and its criteria checked"),
        ("application", "Application sent with a trusted reference"),
        ("received", "Funds received and her acknowledgment kept"),
        ("report", "Use of funds reported to the fund"),
    ),
    "relocation": (
        ("decision", "She decided to relocate (her own informed choice)"),
        ("place", "Safe destination and host identified"),
        ("travel", "Safe route, documents and travel arranged"),
        ("dependants", "Dependants' safety and care arranged"),
        ("arrived", "Arrival confirmed; check-ins set for the period"),
        ("return", "Return or longer-term plan agreed"),
    ),
    "legal_aid": (
        ("lawyer", "Lawyer found and engaged"),
        ("power", "Power of attorney or authorisation signed"),
        ("file", "Case file, charges and evidence obtained"),
        ("filing", "Filing, habeas corpus or defence submitted"),
        ("hearing", "Hearing attended and outcome recorded"),
    ),
}


@dataclass(frozen=True)
class Measure:
    id: str
    case_id: str
    kind: str
    driver: str | None
    description: str
    owner: str | None
    due_on: date | None
    status: str
    priority: str
    outcome: str | None
    version: int
    updated_at: datetime

    def overdue(self, today: date) -> bool:
        return (self.due_on is not None and self.due_on < today
                and self.status in ("pending", "continuing"))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "kind": self.kind,
                "driver": self.driver, "description": self.description, "owner": self.owner,
                "due_on": None if self.due_on is None else self.due_on.isoformat(),
                "status": self.status, "priority": self.priority, "outcome": self.outcome,
                "version": self.version}  # fmt: skip


@dataclass(frozen=True)
class UrgentAction:
    id: str
    case_id: str
    kind: str
    status: str
    steps: dict[str, dict[str, str]]  # step code -> {"at": iso, "by": actor}
    note: str | None
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None

    @property
    def checklist(self) -> builtins.list[tuple[str, str, bool]]:
        return [(code, text, code in self.steps) for code, text in CHECKLISTS[self.kind]]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "case_id": self.case_id, "kind": self.kind,
                "status": self.status, "note": self.note,
                "checklist": [{"step": c, "text": t, "done": d} for c, t, d in self.checklist],
                "opened_at": self.opened_at.isoformat(), "opened_by": self.opened_by,
                "closed_at": None if self.closed_at is None
                else self.closed_at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class ProtectionCase:
    id: str
    title: str | None
    status: str
    subject_defender_id: str | None
    officer_id: str | None
    priority: str | None
    protection_status: str | None
    review_due: date | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status,
                "subject_defender_id": self.subject_defender_id, "officer_id": self.officer_id,
                "priority": self.priority, "protection_status": self.protection_status,
                "review_due": None if self.review_due is None else self.review_due.isoformat(),
                "created_at": self.created_at.isoformat()}  # fmt: skip


def _text(name: str, value: str | None, required: bool = False) -> str | None:
    value = None if value is None else value.strip() or None
    if required and value is None:
        raise ValidationError(name, "is required")
    if value is not None and (len(value) > MAX_TEXT or "\x00" in value):
        raise ValidationError(name, f"must be at most {MAX_TEXT} characters, without NUL")
    return value


class ProtectionService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # -- the case ------------------------------------------------------------------------

    def get(self, case_id: str) -> ProtectionCase:
        self.r.require_in_case("read_identity", "case", case_id, case_id)
        with self.r.store.read() as conn:
            return self._case(conn, case_id)

    def _case(self, conn: Connection, case_id: str) -> ProtectionCase:
        row = conn.execute(sa.select(C).where(C.c.id == case_id)).first()
        if row is None or row.shredded_at is not None:
            raise NotFound(f"no case {case_id}")
        title = sealer_for(conn, self.r.keyring, case_id).open(
            "cases", case_id, "title", 0, row.title_ct
        )
        return ProtectionCase(
            id=row.id, title=title, status=row.status,
            subject_defender_id=row.subject_defender_id, officer_id=row.officer_id,
            priority=row.priority, protection_status=row.protection_status,
            review_due=row.review_due, created_at=utc(row.created_at),
        )  # fmt: skip

    def update(self, case_id: str, **fields: Any) -> ProtectionCase:
        """Set ``subject_defender_id``, ``officer_id``, ``priority``, ``protection_status``."""
        allowed = {"subject_defender_id", "officer_id", "priority", "protection_status"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "is not a protection field")
        if fields.get("priority") is not None:
            self.r.vocab["priorities"].check("priority", fields["priority"])
        status = fields.get("protection_status")
        if status is not None and status not in PROTECTION_STATUSES:
            raise ValidationError(
                "protection_status", f"must be one of {', '.join(PROTECTION_STATUSES)}"
            )
        with self.r.store.write() as conn:
            self.r.require_in_case("write", "case", case_id, case_id)
            subject = fields.get("subject_defender_id")
            if subject is not None:
                found = conn.execute(sa.select(schema.defenders.c.case_id)
                                     .where(schema.defenders.c.id == subject)).scalar()  # fmt: skip
                if found != case_id:
                    raise ValidationError(
                        "subject_defender_id", "must be a defender filed in this case"
                    )
            officer = fields.get("officer_id")
            if officer is not None:
                role = conn.execute(sa.select(schema.users.c.role)
                                    .where(schema.users.c.id == officer)).scalar()  # fmt: skip
                if role not in ("admin", "coordinator", "documenter"):
                    raise ValidationError("officer_id", "must be a user who can work on cases")
            if fields:
                conn.execute(sa.update(C).where(C.c.id == case_id).values(**fields))
            self.r.audit.record(conn, "case.protection", object_type="case", object_id=case_id,
                                detail={"fields": sorted(fields)})  # fmt: skip
            return self._case(conn, case_id)

    def overview(self, case_id: str) -> dict[str, Any]:
        """Everything the case page shows, in one audited read."""
        self.r.require_in_case("read_identity", "case", case_id, case_id)
        D, Inc = schema.defenders, schema.incidents
        with self.r.store.read() as conn:
            case = self._case(conn, case_id)
            sealer = sealer_for(conn, self.r.keyring, case_id)
            people = []
            for row in conn.execute(sa.select(D.c.id, D.c.kind, D.c.version, D.c.display_name_ct,
                                              D.c.contacts_ct)
                                    .where(D.c.case_id == case_id, D.c.merged_into.is_(None))
                                    .order_by(D.c.id)):  # fmt: skip
                latest = self.r.risk.latest(conn, row.id)
                people.append({
                    "id": row.id, "kind": row.kind,
                    "name": sealer.open("defenders", row.id, "display_name", row.version,
                                        row.display_name_ct) or "",
                    "contacts": sealer.open("defenders", row.id, "contacts", row.version,
                                            row.contacts_ct),
                    "band": None if latest is None else latest.band,
                    "version": None if latest is None else latest.version,
                    "next_review": None if latest is None else latest.next_review,
                })  # fmt: skip
            incidents = [
                {"id": r.id, "title": sealer.open("incidents", r.id, "title", r.version,
                                                  r.title_ct) or "", "date": r.date_start}
                for r in conn.execute(sa.select(Inc.c.id, Inc.c.version, Inc.c.title_ct,
                                                Inc.c.date_start)
                                      .where(Inc.c.case_id == case_id)
                                      .order_by(Inc.c.date_start.desc()).limit(200))
            ]  # fmt: skip
            measures = [
                self._measure(sealer, r)
                for r in conn.execute(
                    sa.select(M).where(M.c.case_id == case_id).order_by(M.c.due_on, M.c.id)
                )
            ]
            urgent = [
                self._urgent(sealer, r)
                for r in conn.execute(
                    sa.select(U).where(U.c.case_id == case_id).order_by(U.c.opened_at.desc())
                )
            ]
            officer = None
            if case.officer_id:
                officer = conn.execute(
                    sa.select(schema.users.c.username).where(schema.users.c.id == case.officer_id)
                ).scalar()
        self.r.audit.record_alone(
            "case.read",
            object_type="case",
            object_id=case_id,
            detail={"people": len(people), "incidents": len(incidents)},
        )
        return {"case": case, "people": people, "incidents": incidents, "measures": measures,
                "urgent": urgent, "officer": officer}  # fmt: skip

    # -- the plan ------------------------------------------------------------------------

    def add_measure(
        self, case_id: str, *, kind: str, description: str, owner: str | None = None,
        due_on: date | None = None, status: str = "pending", priority: str = "normal",
        driver: str | None = None,
    ) -> Measure:  # fmt: skip
        if kind not in MEASURE_KINDS:
            raise ValidationError("kind", "must be preventive or emergency")
        self.r.vocab["intervention_status"].check("status", status)
        self.r.vocab["priorities"].check("priority", priority)
        if driver is not None and driver not in {i.code for i in self.r.risk.items}:
            raise ValidationError("driver", f"{driver!r} is not a risk item (T1..C10)")
        text = _text("description", description, required=True)
        who = _text("owner", owner)
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            self.r.require_in_case("write", "case", case_id, case_id)
            sealer = sealer_for(conn, self.r.keyring, case_id)
            measure_id = self.r.new_id()
            conn.execute(sa.insert(M), [{
                "id": measure_id, "case_id": case_id, "kind": kind, "driver": driver,
                "description_ct": sealer.seal("protection_measures", measure_id, "description",
                                              1, text),
                "owner_ct": sealer.seal("protection_measures", measure_id, "owner", 1, who),
                "due_on": due_on, "status": status, "priority": priority, "outcome_ct": None,
                "version": 1, "created_at": now, "created_by": self.r.actor, "updated_at": now,
                "updated_by": self.r.actor,
            }])  # fmt: skip
            self.r.audit.record(
                conn,
                "measure.add",
                object_type="case",
                object_id=case_id,
                detail={"measure": measure_id, "kind": kind, "status": status},
            )
            return self._measure(sealer, conn.execute(sa.select(M).where(M.c.id == measure_id))
                                 .one())  # fmt: skip

    def update_measure(self, measure_id: str, **changes: Any) -> Measure:
        """Change ``status``, ``outcome``, ``due_on``, ``owner``, ``priority``, ``description``."""
        allowed = {"status", "outcome", "due_on", "owner", "priority", "description"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(sorted(unknown)[0], "cannot be changed")
        if "status" in changes:
            self.r.vocab["intervention_status"].check("status", changes["status"])
        if "priority" in changes:
            self.r.vocab["priorities"].check("priority", changes["priority"])
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(M).where(M.c.id == measure_id)).first()
            if row is None:
                raise NotFound(f"no measure {measure_id}")
            self.r.require_in_case("write", "case", measure_id, row.case_id)
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            current = self._measure(sealer, row)
            version = row.version + 1
            texts = {
                "description": _text("description", changes.get("description",
                                                                 current.description), True),
                "owner": _text("owner", changes.get("owner", current.owner)),
                "outcome": _text("outcome", changes.get("outcome", current.outcome)),
            }  # fmt: skip
            conn.execute(sa.update(M).where(M.c.id == measure_id, M.c.version == row.version)
                         .values(
                **{f"{k}_ct": sealer.seal("protection_measures", measure_id, k, version, v)
                   for k, v in texts.items()},
                status=changes.get("status", row.status),
                priority=changes.get("priority", row.priority),
                due_on=changes.get("due_on", row.due_on), version=version,
                updated_at=self.r.clock.now(), updated_by=self.r.actor,
            ))  # fmt: skip
            self.r.audit.record(conn, "measure.update", object_type="case",
                                object_id=row.case_id,
                                detail={"measure": measure_id, "fields": sorted(changes),
                                        "version": version})  # fmt: skip
            return self._measure(sealer, conn.execute(sa.select(M).where(M.c.id == measure_id))
                                 .one())  # fmt: skip

    def measures(self, case_id: str) -> builtins.list[Measure]:
        self.r.require_in_case("read_identity", "case", case_id, case_id)
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, case_id)
            return [
                self._measure(sealer, r)
                for r in conn.execute(
                    sa.select(M).where(M.c.case_id == case_id).order_by(M.c.due_on, M.c.id)
                )
            ]

    def _measure(self, sealer: CaseSealer, row: Row[Any]) -> Measure:
        v = row.version
        return Measure(
            id=row.id, case_id=row.case_id, kind=row.kind, driver=row.driver,
            description=sealer.open("protection_measures", row.id, "description", v,
                                    row.description_ct) or "",
            owner=sealer.open("protection_measures", row.id, "owner", v, row.owner_ct),
            due_on=row.due_on, status=row.status, priority=row.priority,
            outcome=sealer.open("protection_measures", row.id, "outcome", v, row.outcome_ct),
            version=v, updated_at=utc(row.updated_at),
        )  # fmt: skip

    # -- urgent actions ------------------------------------------------------------------

    def open_urgent(self, case_id: str, kind: str, note: str | None = None) -> UrgentAction:
        if kind not in CHECKLISTS:
            raise ValidationError("kind", f"must be one of {', '.join(CHECKLISTS)}")
        text = _text("note", note)
        with self.r.store.write() as conn:
            self.r.require_in_case("write", "case", case_id, case_id)
            sealer = sealer_for(conn, self.r.keyring, case_id)
            action_id = self.r.new_id()
            conn.execute(sa.insert(U), [{
                "id": action_id, "case_id": case_id, "kind": kind, "status": "open",
                "steps": "{}", "note_ct": sealer.seal("urgent_actions", action_id, "note", 0, text),
                "opened_at": self.r.clock.now(), "opened_by": self.r.actor, "closed_at": None,
            }])  # fmt: skip
            self.r.audit.record(
                conn,
                "urgent.open",
                object_type="case",
                object_id=case_id,
                detail={"action": action_id, "kind": kind},
            )
            return self._urgent(sealer, conn.execute(sa.select(U).where(U.c.id == action_id))
                                .one())  # fmt: skip

    def tick(self, action_id: str, step: str, done: bool = True) -> UrgentAction:
        with self.r.store.write() as conn:
            row = self._urgent_row(conn, action_id)
            if step not in dict(CHECKLISTS[row.kind]):
                raise ValidationError("step", f"{row.kind} has no step {step!r}")
            if row.status != "open":
                raise Conflict("this urgent action is closed")
            steps = json.loads(row.steps)
            if done:
                steps.setdefault(step, {"at": self.r.clock.now().isoformat(), "by": self.r.actor})
            else:
                steps.pop(step, None)
            conn.execute(sa.update(U).where(U.c.id == action_id)
                         .values(steps=json.dumps(steps, sort_keys=True)))  # fmt: skip
            self.r.audit.record(
                conn,
                "urgent.step",
                object_type="case",
                object_id=row.case_id,
                detail={"action": action_id, "step": step, "done": done},
            )
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            return self._urgent(sealer, conn.execute(sa.select(U).where(U.c.id == action_id))
                                .one())  # fmt: skip

    def close_urgent(self, action_id: str, status: str = "done") -> UrgentAction:
        if status not in ("done", "cancelled"):
            raise ValidationError("status", "must be done or cancelled")
        with self.r.store.write() as conn:
            row = self._urgent_row(conn, action_id)
            if row.status != "open":
                raise Conflict("this urgent action is closed")
            conn.execute(sa.update(U).where(U.c.id == action_id)
                         .values(status=status, closed_at=self.r.clock.now()))  # fmt: skip
            self.r.audit.record(
                conn,
                "urgent.close",
                object_type="case",
                object_id=row.case_id,
                detail={"action": action_id, "status": status},
            )
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            return self._urgent(sealer, conn.execute(sa.select(U).where(U.c.id == action_id))
                                .one())  # fmt: skip

    def _urgent_row(self, conn: Connection, action_id: str) -> Row[Any]:
        row = conn.execute(sa.select(U).where(U.c.id == action_id)).first()
        if row is None:
            raise NotFound(f"no urgent action {action_id}")
        self.r.require_in_case("write", "case", action_id, row.case_id)
        return row

    def _urgent(self, sealer: CaseSealer, row: Row[Any]) -> UrgentAction:
        return UrgentAction(
            id=row.id, case_id=row.case_id, kind=row.kind, status=row.status,
            steps=json.loads(row.steps),
            note=sealer.open("urgent_actions", row.id, "note", 0, row.note_ct),
            opened_at=utc(row.opened_at), opened_by=row.opened_by,
            closed_at=None if row.closed_at is None else utc(row.closed_at),
        )  # fmt: skip
