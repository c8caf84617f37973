"""Risk-review flags: "look at this defender's risk again", with why, when and what raised it.

Triage raises one when a message or a campaign aimed at a defender is accepted as an incident;
the risk assessments of a later issue will read and clear them. A flag is filed in the
defender's case (need-to-know: whoever may see her profile may see her flags); its reason and
the note left when it is cleared are ciphertext. One source raises at most one open flag.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.services.sealing import CaseSealer, defender_name, sealer_for
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["SOURCE_KINDS", "RiskFlag", "RiskFlagService"]

F = schema.risk_flags
SOURCE_KINDS = ("triage_message", "triage_campaign", "severe_incident")
MAX_NOTE = 2_000


@dataclass(frozen=True)
class RiskFlag:
    id: str
    case_id: str
    defender_id: str
    source_kind: str
    source_id: str
    incident_id: str | None
    reason: str
    raised_at: datetime
    raised_by: str
    cleared_at: datetime | None
    cleared_by: str | None
    clear_note: str | None
    defender_name: str = ""

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "defender_id": self.defender_id,
            "defender_name": self.defender_name, "source_kind": self.source_kind,
            "source_id": self.source_id, "incident_id": self.incident_id, "reason": self.reason,
            "raised_at": self.raised_at.isoformat(), "raised_by": self.raised_by,
            "cleared_at": None if self.cleared_at is None else self.cleared_at.isoformat(),
            "cleared_by": self.cleared_by, "clear_note": self.clear_note,
        }  # fmt: skip


class RiskFlagService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def raise_in(
        self, conn: Connection, sealer: CaseSealer, *, defender_id: str, source_kind: str,
        source_id: str, reason: str, incident_id: str | None = None,
    ) -> str:  # fmt: skip
        """Flag ``defender_id`` inside the caller's transaction (the caller checked the
        permission); an open flag from the same source is returned instead of a second."""
        if source_kind not in SOURCE_KINDS:
            raise ValueError(f"unknown risk-flag source {source_kind!r}")
        existing = conn.execute(
            sa.select(F.c.id).where(
                F.c.defender_id == defender_id, F.c.source_kind == source_kind,
                F.c.source_id == source_id, F.c.cleared_at.is_(None),
            )
        ).scalar()  # fmt: skip
        if existing is not None:
            return str(existing)
        flag_id = self.r.new_id()
        conn.execute(sa.insert(F), [{
            "id": flag_id, "case_id": sealer.case_id, "defender_id": defender_id,
            "source_kind": source_kind, "source_id": source_id, "incident_id": incident_id,
            "reason_ct": sealer.seal("risk_flags", flag_id, "reason", 0, reason),
            "raised_at": self.r.clock.now(), "raised_by": self.r.actor,
        }])  # fmt: skip
        self.r.audit.record(
            conn, "risk_flag.raise", object_type="defender", object_id=defender_id,
            detail={"flag": flag_id, "source": source_kind, "id": source_id},
        )  # fmt: skip
        return flag_id

    def for_defender(self, defender_id: str, *, open_only: bool = False) -> builtins.list[RiskFlag]:
        """A defender's flags, newest first (for her profile, whose read is audited)."""
        with self.r.store.read() as conn:
            case_id = conn.execute(
                sa.select(schema.defenders.c.case_id).where(schema.defenders.c.id == defender_id)
            ).scalar()
            if case_id is None:
                raise NotFound(f"no defender {defender_id}")
            self.r.require_in_case("read_identity", "defender", defender_id, str(case_id))
            stmt = sa.select(F).where(F.c.defender_id == defender_id)
            if open_only:
                stmt = stmt.where(F.c.cleared_at.is_(None))
            rows = conn.execute(stmt.order_by(F.c.raised_at.desc(), F.c.id)).all()
            return [self._flag(sealer_for(conn, self.r.keyring, row.case_id), row) for row in rows]

    def open_flags(self, limit: int = 20) -> builtins.list[RiskFlag]:
        """Open flags in the cases the principal may see, newest first, with names (audited)."""
        visible = self.r.visible_cases()
        out: builtins.list[RiskFlag] = []
        with self.r.store.write() as conn:
            if visible is None or visible:
                stmt = sa.select(F).where(F.c.cleared_at.is_(None))
                if visible is not None:
                    stmt = stmt.where(in_cases(F.c.case_id, visible, conn.dialect.name))
                stmt = stmt.order_by(F.c.raised_at.desc(), F.c.id).limit(limit)
                for row in conn.execute(stmt).all():
                    sealer = sealer_for(conn, self.r.keyring, row.case_id)
                    out.append(
                        self._flag(sealer, row, name=defender_name(conn, sealer, row.defender_id))
                    )
            self.r.audit.record(conn, "risk_flag.list", object_type="defender",
                                detail={"count": len(out)})  # fmt: skip
        return out

    def clear(self, flag_id: str, note: str | None = None) -> RiskFlag:
        """Mark a flag as reviewed: needs write access to the defender's case."""
        if note is not None and (len(note) > MAX_NOTE or "\x00" in note):
            raise ValidationError("note", f"must be at most {MAX_NOTE} characters, without NUL")
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(F).where(F.c.id == flag_id)).first()
            if row is None:
                raise NotFound(f"no risk flag {flag_id}")
            self.r.require_in_case("write", "defender", flag_id, row.case_id)
            if row.cleared_at is not None:
                raise Conflict(f"risk flag {flag_id} was already cleared")
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            conn.execute(sa.update(F).where(F.c.id == flag_id).values(
                cleared_at=self.r.clock.now(), cleared_by=self.r.actor,
                clear_note_ct=sealer.seal("risk_flags", flag_id, "clear_note", 0,
                                          (note or "").strip() or None),
            ))  # fmt: skip
            self.r.audit.record(conn, "risk_flag.clear", object_type="defender",
                                object_id=row.defender_id, detail={"flag": flag_id})  # fmt: skip
            updated = conn.execute(sa.select(F).where(F.c.id == flag_id)).one()
            return self._flag(sealer, updated)

    def _flag(self, sealer: CaseSealer, row: Row[Any], name: str = "") -> RiskFlag:
        return RiskFlag(
            id=row.id, case_id=row.case_id, defender_id=row.defender_id,
            source_kind=row.source_kind, source_id=row.source_id, incident_id=row.incident_id,
            reason=sealer.open("risk_flags", row.id, "reason", 0, row.reason_ct) or "",
            raised_at=utc(row.raised_at), raised_by=row.raised_by,
            cleared_at=None if row.cleared_at is None else utc(row.cleared_at),
            cleared_by=row.cleared_by,
            clear_note=sealer.open("risk_flags", row.id, "clear_note", 0, row.clear_note_ct),
            defender_name=name,
        )  # fmt: skip
