"""Risk assessments of a defender: immutable, versioned, each reviewed by the person who signs it.

``assess`` scores the form with :mod:`amparo.domain.risk` (cut-points from the settings), adds
the facts the case's own incidents establish (a death threat, attempted killing or abduction in
the last 90 days), stores a new version (never updating an old one), sets the next review date
on the case and clears the defender's open risk-review flags (the review they asked for has
happened). A new severe incident, or an accepted triage threat, raises such a flag again:
the scheduler's ``sweep_severe_incidents`` (every round, 15 s in ``amparo serve``) flags each
new incident with a severity-1 act that no flag names yet (triage's own flag names the
incident it accepted, so that one is not flagged twice).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.clock import utc
from amparo.domain import risk as scoring
from amparo.domain.vocabularies import act_severity
from amparo.errors import NotFound, ValidationError
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.visibility import in_cases
from amparo.store import schema
from amparo.store.schema import codes_column, codes_from_column

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["INCIDENT_FACTS", "RiskAssessment", "RiskService"]

A = schema.risk_assessments
D = schema.defenders
SWEEP_BATCH = 100  # severe incidents flagged per transaction by the scheduler's sweep
# Act types whose occurrence in the last 90 days is an override fact (DOMAIN.md section 6).
INCIDENT_FACTS = {"A09": "death_threat_90d", "A02": "attempted_killing_90d",
                  "A04": "abduction_attempt_90d"}  # fmt: skip
MAX_TEXT = 4_000


@dataclass(frozen=True)
class RiskAssessment:
    id: str
    case_id: str
    defender_id: str
    version: int
    scores: dict[str, int]
    facts: list[str]
    threat: float
    vulnerability: float
    capacity: float
    index: float
    computed_band: str
    band: str
    overrides: list[str]
    cutpoints: str
    urgent_action: bool
    officer_band_reason: str | None
    note: str | None
    next_review: date
    created_at: datetime
    created_by: str
    drivers: tuple[scoring.Driver, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "defender_id": self.defender_id,
            "version": self.version, "scores": self.scores, "facts": self.facts,
            "threat": self.threat, "vulnerability": self.vulnerability,
            "capacity": self.capacity, "index": self.index,
            "computed_band": self.computed_band, "band": self.band,
            "overrides": self.overrides, "cutpoints": self.cutpoints,
            "urgent_action": self.urgent_action,
            "officer_band_reason": self.officer_band_reason, "note": self.note,
            "next_review": self.next_review.isoformat(),
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "drivers": [{"code": d.code, "group": d.group, "weight": d.weight,
                         "action_kind": d.action_kind} for d in self.drivers],
        }  # fmt: skip


class RiskService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    @cached_property
    def items(self) -> tuple[scoring.Item, ...]:
        return scoring.load_items()

    @property
    def bands(self) -> scoring.Bands:
        return scoring.Bands(*self.r.settings.risk_cutpoints)

    def _defender_case(self, conn: Connection, defender_id: str) -> str:
        case_id = conn.execute(sa.select(D.c.case_id).where(D.c.id == defender_id)).scalar()
        if case_id is None:
            raise NotFound(f"no defender {defender_id}")
        return str(case_id)

    def incident_facts(self, conn: Connection, case_id: str, defender_id: str) -> list[str]:
        """Override facts that the case's incidents establish for this defender."""
        since = self.r.clock.today() - timedelta(days=90)
        Inc, X = schema.incidents, schema.acts
        rows = conn.execute(
            sa.select(X.c.act_type).select_from(X.join(Inc, X.c.incident_id == Inc.c.id)).where(
                Inc.c.case_id == case_id, X.c.act_type.in_(sorted(INCIDENT_FACTS)),
                sa.or_(X.c.victim_defender_id == defender_id, X.c.victim_defender_id.is_(None)),
                sa.func.coalesce(X.c.act_date, Inc.c.date_start) >= since,
            )
        ).scalars()  # fmt: skip
        return sorted({INCIDENT_FACTS[code] for code in rows})

    def preview(
        self, defender_id: str, scores: dict[str, int], facts: Sequence[str] = ()
    ) -> scoring.Assessment:
        """Score without storing (the form shows what the result would be)."""
        with self.r.store.read() as conn:
            case_id = self._defender_case(conn, defender_id)
            self.r.require_in_case("read_identity", "defender", defender_id, case_id)
            found = self.incident_facts(conn, case_id, defender_id)
        return self._score(scores, sorted(set(facts) | set(found)))

    def _score(self, scores: dict[str, int], facts: builtins.list[str]) -> scoring.Assessment:
        try:
            return scoring.assess(self.items, scores, facts, self.bands)
        except ValueError as exc:
            raise ValidationError("scores", str(exc)) from None

    def assess(
        self,
        defender_id: str,
        scores: dict[str, int],
        facts: Sequence[str] = (),
        *,
        band: str | None = None,
        band_reason: str | None = None,
        note: str | None = None,
    ) -> RiskAssessment:
        """Store a new assessment version. ``band`` lets the reviewing officer set another band
        than the computed one; she must say why (``band_reason``)."""
        for name, text in (("band_reason", band_reason), ("note", note)):
            if text is not None and (len(text) > MAX_TEXT or "\x00" in text):
                raise ValidationError(name, f"must be at most {MAX_TEXT} characters, without NUL")
        if band is not None and band not in scoring.BANDS:
            raise ValidationError("band", f"must be one of {', '.join(scoring.BANDS)}")
        with self.r.store.write() as conn:
            case_id = self._defender_case(conn, defender_id)
            self.r.require_in_case("write", "defender", defender_id, case_id)
            found = self.incident_facts(conn, case_id, defender_id)
            result = self._score(dict(scores), sorted(set(facts) | set(found)))
            final = result.band
            if band is not None and band != result.band:
                if not (band_reason or "").strip():
                    raise ValidationError("band_reason", "say why the band differs from "
                                          f"the computed {result.band}")  # fmt: skip
                final = band
            version = 1 + int(conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(A.c.version), 0))
                .where(A.c.defender_id == defender_id)
            ).scalar_one())  # fmt: skip
            today = self.r.clock.today()
            due = scoring.next_review(final, today, urgent=result.urgent_action)
            assessment_id = self.r.new_id()
            sealer = sealer_for(conn, self.r.keyring, case_id)
            cut = self.bands
            conn.execute(sa.insert(A), [{
                "id": assessment_id, "case_id": case_id, "defender_id": defender_id,
                "version": version, "scores": json.dumps(result.scores, sort_keys=True),
                "facts": codes_column(list(result.facts)), "threat": result.threat,
                "vulnerability": result.vulnerability, "capacity": result.capacity,
                "risk_index": result.index, "computed_band": result.computed_band, "band": final,
                "overrides": codes_column([o.rule for o in result.overrides]),
                "cutpoints": f"{cut.medium},{cut.high},{cut.extreme}",
                "urgent_action": result.urgent_action,
                "officer_band_reason_ct": sealer.seal(
                    "risk_assessments", assessment_id, "officer_band_reason", 0,
                    (band_reason or "").strip() or None if final != result.band else None),
                "note_ct": sealer.seal("risk_assessments", assessment_id, "note", 0,
                                       (note or "").strip() or None),
                "next_review": due, "created_at": self.r.clock.now(),
                "created_by": self.r.actor,
            }])  # fmt: skip
            self._set_case_review(conn, case_id)
            cleared = self._clear_flags(conn, sealer, defender_id, version)
            self.r.audit.record(
                conn, "risk.assess", object_type="defender", object_id=defender_id,
                detail={"assessment": assessment_id, "version": version, "band": final,
                        "computed": result.computed_band, "flags_cleared": cleared},
            )  # fmt: skip
            row = conn.execute(sa.select(A).where(A.c.id == assessment_id)).one()
            return self._load(sealer, row)

    def _clear_flags(
        self, conn: Connection, sealer: CaseSealer, defender_id: str, version: int
    ) -> int:
        F = schema.risk_flags
        ids = conn.execute(
            sa.select(F.c.id).where(F.c.defender_id == defender_id, F.c.cleared_at.is_(None))
        ).scalars().all()  # fmt: skip
        for flag_id in ids:
            conn.execute(sa.update(F).where(F.c.id == flag_id).values(
                cleared_at=self.r.clock.now(), cleared_by=self.r.actor,
                clear_note_ct=sealer.seal("risk_flags", flag_id, "clear_note", 0,
                                          f"reviewed in risk assessment version {version}"),
            ))  # fmt: skip
            self.r.audit.record(conn, "risk_flag.clear", object_type="defender",
                                object_id=defender_id, detail={"flag": flag_id})  # fmt: skip
        return len(ids)

    def _set_case_review(self, conn: Connection, case_id: str) -> None:
        """The case's review date: the earliest next review of its people's latest versions."""
        latest = (
            sa.select(A.c.defender_id, sa.func.max(A.c.version).label("v"))
            .where(A.c.case_id == case_id).group_by(A.c.defender_id).subquery()
        )  # fmt: skip
        due = conn.execute(
            sa.select(sa.func.min(A.c.next_review)).select_from(
                A.join(latest, (A.c.defender_id == latest.c.defender_id)
                       & (A.c.version == latest.c.v))
            )
        ).scalar()  # fmt: skip
        conn.execute(sa.update(schema.cases).where(schema.cases.c.id == case_id)
                     .values(review_due=due))  # fmt: skip

    def history(self, defender_id: str) -> builtins.list[RiskAssessment]:
        """Every version, oldest first (the trajectory)."""
        with self.r.store.read() as conn:
            case_id = self._defender_case(conn, defender_id)
            self.r.require_in_case("read_identity", "defender", defender_id, case_id)
            sealer = sealer_for(conn, self.r.keyring, case_id)
            rows = conn.execute(
                sa.select(A).where(A.c.defender_id == defender_id).order_by(A.c.version)
            ).all()
            out = [self._load(sealer, row) for row in rows]
        self.r.audit.record_alone("risk.history", object_type="defender", object_id=defender_id,
                                  detail={"count": len(out)})  # fmt: skip
        return out

    def show(self, defender_id: str, version: int | None = None) -> RiskAssessment:
        """One version (the latest by default)."""
        with self.r.store.read() as conn:
            case_id = self._defender_case(conn, defender_id)
            self.r.require_in_case("read_identity", "defender", defender_id, case_id)
            stmt = sa.select(A).where(A.c.defender_id == defender_id)
            if version is None:
                stmt = stmt.order_by(A.c.version.desc()).limit(1)
            else:
                stmt = stmt.where(A.c.version == version)
            row = conn.execute(stmt).first()
            if row is None:
                raise NotFound(f"no risk assessment of defender {defender_id}"
                               + ("" if version is None else f" version {version}"))  # fmt: skip
            result = self._load(sealer_for(conn, self.r.keyring, case_id), row)
        self.r.audit.record_alone("risk.read", object_type="defender", object_id=defender_id,
                                  detail={"version": result.version})  # fmt: skip
        return result

    def latest(self, conn: Connection, defender_id: str) -> Row[Any] | None:
        return conn.execute(
            sa.select(A).where(A.c.defender_id == defender_id)
            .order_by(A.c.version.desc()).limit(1)
        ).first()  # fmt: skip

    def due(self, on: date | None = None) -> builtins.list[tuple[str, str, date | None, int]]:
        """Defenders needing review in visible cases: (case, defender, review date, open flags);
        due means the date has come, or an open flag asks for review now."""
        on = on or self.r.clock.today()
        visible = self.r.visible_cases()
        if visible is not None and not visible:
            return []
        F = schema.risk_flags
        latest = (
            sa.select(A.c.defender_id, sa.func.max(A.c.version).label("v"))
            .group_by(A.c.defender_id).subquery()
        )  # fmt: skip
        out: dict[str, tuple[str, str, date | None, int]] = {}
        with self.r.store.read() as conn:
            stmt = sa.select(A.c.case_id, A.c.defender_id, A.c.next_review).select_from(
                A.join(latest, (A.c.defender_id == latest.c.defender_id)
                       & (A.c.version == latest.c.v))
            ).where(A.c.next_review <= on)  # fmt: skip
            flags = sa.select(F.c.case_id, F.c.defender_id, sa.func.count().label("n")).where(
                F.c.cleared_at.is_(None)
            ).group_by(F.c.case_id, F.c.defender_id)  # fmt: skip
            if visible is not None:
                stmt = stmt.where(in_cases(A.c.case_id, visible, conn.dialect.name))
                flags = flags.where(in_cases(F.c.case_id, visible, conn.dialect.name))
            for case_id, defender_id, review in conn.execute(stmt):
                out[defender_id] = (case_id, defender_id, review, 0)
            for case_id, defender_id, n in conn.execute(flags):
                review = out[defender_id][2] if defender_id in out else None
                out[defender_id] = (case_id, defender_id, review, int(n))
        return sorted(out.values(), key=lambda t: (-t[3], t[2] or date.min, t[1]))

    def at_risk(
        self, bands: Sequence[str] = ("high", "extreme"), limit: int = 20
    ) -> builtins.list[dict[str, Any]]:
        """Defenders in visible cases whose latest assessment is in ``bands``, the highest
        band first: case, defender, name, band, version, next review (for the dashboard)."""
        visible = self.r.visible_cases()
        if visible is not None and not visible:
            return []
        latest = (
            sa.select(A.c.defender_id, sa.func.max(A.c.version).label("v"))
            .group_by(A.c.defender_id).subquery()
        )  # fmt: skip
        stmt = (
            sa.select(A.c.case_id, A.c.defender_id, A.c.band, A.c.version, A.c.next_review,
                      D.c.version.label("dv"), D.c.display_name_ct)
            .select_from(A.join(latest, (A.c.defender_id == latest.c.defender_id)
                                & (A.c.version == latest.c.v))
                         .join(D, D.c.id == A.c.defender_id))
            .where(A.c.band.in_(list(bands)), D.c.merged_into.is_(None))
        )  # fmt: skip
        out: builtins.list[dict[str, Any]] = []
        with self.r.store.read() as conn:
            if visible is not None:
                stmt = stmt.where(in_cases(A.c.case_id, visible, conn.dialect.name))
            for row in conn.execute(stmt).all():
                name = sealer_for(conn, self.r.keyring, row.case_id).open(
                    "defenders", row.defender_id, "display_name", row.dv, row.display_name_ct
                )
                out.append({"case_id": row.case_id, "defender_id": row.defender_id,
                            "name": name or "", "band": row.band, "version": row.version,
                            "next_review": row.next_review})  # fmt: skip
        out.sort(key=lambda d: (-scoring.BANDS.index(d["band"]), d["next_review"], d["name"]))
        return out[:limit]

    # -- a new severe incident asks for review now ---------------------------------------

    def flag_severe_incident(self, conn: Connection, incident_id: str) -> builtins.list[str]:
        """Raise a risk-review flag for the defenders a severe act (severity group 1) of this
        incident targets (or, when no act names one, the case's subject or its defenders)."""
        Inc, X = schema.incidents, schema.acts
        case_id = conn.execute(sa.select(Inc.c.case_id).where(Inc.c.id == incident_id)).scalar()
        if case_id is None:
            return []
        acts = conn.execute(
            sa.select(X.c.act_type, X.c.victim_defender_id).where(X.c.incident_id == incident_id)
        ).all()
        severe = [a for a in acts if _severe(a.act_type)]
        if not severe:
            return []
        targets = sorted({a.victim_defender_id for a in severe if a.victim_defender_id})
        if not targets:
            subject = conn.execute(sa.select(schema.cases.c.subject_defender_id)
                                   .where(schema.cases.c.id == case_id)).scalar()  # fmt: skip
            targets = [subject] if subject else sorted(
                conn.execute(sa.select(D.c.id).where(D.c.case_id == case_id)).scalars()
            )  # fmt: skip
        sealer = sealer_for(conn, self.r.keyring, str(case_id))
        codes = sorted({a.act_type for a in severe})
        return [
            self.r.risk_flags.raise_in(
                conn, sealer, defender_id=defender_id, source_kind="severe_incident",
                source_id=incident_id, incident_id=incident_id,
                reason=f"new severe incident ({', '.join(codes)}): review the risk now",
            )
            for defender_id in targets
        ]  # fmt: skip

    def sweep_severe_incidents(self, since: datetime, batch: int = SWEEP_BATCH) -> int:
        """Flag severe incidents recorded since ``since`` that happened in the last 90 days
        and that no flag names yet; the scheduler runs this every round. Returns the number
        of flags raised. Works through them ``batch`` at a time, each batch its own short
        transaction: after an import of thousands of records the writer (and every audited
        read queued behind it) is never held for more than one batch."""
        Inc, X, F = schema.incidents, schema.acts, schema.risk_flags
        severe_codes = [c for c in self.r.vocab["act_types"].codes if _severe(c)]
        # An incident documented today that happened years ago is history, not a new risk.
        recent = self.r.clock.today() - timedelta(days=90)
        raised, after = 0, None
        while True:
            with self.r.store.write() as conn:
                # Any flag naming the incident (triage raises one when it accepts a threat).
                flagged = sa.select(F.c.incident_id).where(F.c.incident_id.is_not(None))
                query = (
                    sa.select(Inc.c.created_at, Inc.c.id)
                    .where(Inc.c.created_at >= since, Inc.c.date_start >= recent,
                           Inc.c.id.in_(sa.select(X.c.incident_id)
                                        .where(X.c.act_type.in_(severe_codes))),
                           Inc.c.id.not_in(flagged))
                    .order_by(Inc.c.created_at, Inc.c.id).limit(batch)
                )  # fmt: skip
                if after is not None:
                    query = query.where(sa.tuple_(Inc.c.created_at, Inc.c.id) > after)
                rows = conn.execute(query).all()
                for row in rows:
                    raised += len(self.flag_severe_incident(conn, row.id))
            if len(rows) < batch:
                return raised
            after = (rows[-1].created_at, rows[-1].id)

    def _load(self, sealer: CaseSealer, row: Row[Any]) -> RiskAssessment:
        scores = json.loads(row.scores)
        facts = codes_from_column(row.facts)
        try:
            drivers = scoring.assess(self.items, scores, facts, _bands(row.cutpoints)).drivers
        except ValueError:  # a form from another version of the item list
            drivers = ()
        return RiskAssessment(
            id=row.id, case_id=row.case_id, defender_id=row.defender_id, version=row.version,
            scores=scores, facts=facts, threat=row.threat, vulnerability=row.vulnerability,
            capacity=row.capacity, index=row.risk_index, computed_band=row.computed_band,
            band=row.band, overrides=codes_from_column(row.overrides), cutpoints=row.cutpoints,
            urgent_action=bool(row.urgent_action),
            officer_band_reason=sealer.open("risk_assessments", row.id, "officer_band_reason",
                                            0, row.officer_band_reason_ct),
            note=sealer.open("risk_assessments", row.id, "note", 0, row.note_ct),
            next_review=row.next_review, created_at=utc(row.created_at),
            created_by=row.created_by, drivers=drivers,
        )  # fmt: skip


def _bands(text: str) -> scoring.Bands:
    medium, high, extreme = (float(x) for x in text.split(","))
    return scoring.Bands(medium, high, extreme)


def _severe(act_type: str) -> bool:
    try:
        return act_severity(act_type) == 1
    except (KeyError, LookupError):
        return False
