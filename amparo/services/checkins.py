"""Check-ins for a defender in a high-risk period, and the escalation when one is missed.

A schedule expects a check-in every ``interval`` from ``starts_at`` until ``ends_at``. The
defender checks in without an account, through a one-time link (or its code typed on the
check-in page): each use spends the link and issues the next one. An officer may record a
check-in she received another way. When a check-in is ``due`` and not made, the chain is
alerted step by step: step k fires ``grace[0] + ... + grace[k]`` minutes after the due time
(``grace`` repeats its last value). The first step is usually the assigned officer, the next
ones safety contacts. A check-in stops the escalation: unsent alerts are cancelled, those
already alerted are told it has stopped, and the next check-in is due one interval later.

Escalation is decided in one transaction per schedule: ``escalation_step`` moves from k to
k+1 only with ``WHERE escalation_step = k`` (on PostgreSQL the row is also locked with SKIP
LOCKED), and each alert's outbox key (schedule, due time, step, recipient) is unique, so two
workers never alert twice.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.security import throttle
from amparo.services.sealing import CaseSealer, sealer_for
from amparo.services.visibility import in_cases
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["CheckinService", "Schedule", "hash_token"]

S = schema.checkin_schedules
K = schema.checkins
T = schema.login_throttle  # the public check-in page's back-off, under its own keys
MIN_INTERVAL = timedelta(minutes=15)
MAX_CHAIN = 10


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Schedule:
    id: str
    case_id: str
    defender_id: str
    interval_minutes: int
    grace_minutes: list[int]
    chain: list[dict[str, str]]
    status: str
    starts_at: datetime
    ends_at: datetime | None
    next_due_at: datetime
    last_checkin_at: datetime | None
    escalation_step: int
    checkins: list[dict[str, Any]]

    def overdue(self, now: datetime) -> bool:
        return self.status == "active" and now > self.next_due_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "case_id": self.case_id, "defender_id": self.defender_id,
            "interval_minutes": self.interval_minutes, "grace_minutes": self.grace_minutes,
            "chain": [_describe(step) for step in self.chain], "status": self.status,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": None if self.ends_at is None else self.ends_at.isoformat(),
            "next_due_at": self.next_due_at.isoformat(),
            "last_checkin_at": None if self.last_checkin_at is None
            else self.last_checkin_at.isoformat(),
            "escalation_step": self.escalation_step,
            "checkins": [{**c, "at": c["at"].isoformat()} for c in self.checkins],
        }  # fmt: skip


def _describe(step: dict[str, str]) -> str:
    if "user" in step:
        return f"user {step['user']}"
    if "email" in step:
        return f"email {step['email']}"
    return f"webhook {step.get('webhook', '')}"


class CheckinService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def link_for(self, token: str) -> str:
        return f"{self.r.settings.public_url}/c/{token}"

    def schedule(
        self, defender_id: str, *, every_hours: float, chain: builtins.list[dict[str, str]],
        grace_minutes: builtins.list[int] | None = None, starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> tuple[Schedule, str]:  # fmt: skip
        """Start check-ins; returns the schedule and her first one-time link's token.

        ``chain``: whom to alert, in order: ``{"user": id}`` (her notification preferences),
        ``{"email": address}`` or ``{"webhook": url, "secret": secret}``. An empty chain
        means the case's assigned officer.
        """
        interval = timedelta(hours=every_hours)
        if interval < MIN_INTERVAL:
            raise ValidationError("every_hours", "must be at least a quarter of an hour")
        grace = list(grace_minutes or [30, 60])
        if not grace or any(g < 0 or g > 7 * 24 * 60 for g in grace):
            raise ValidationError("grace_minutes", "each between 0 and 10080 minutes")
        now = self.r.clock.now()
        starts = starts_at or now
        if ends_at is not None and ends_at <= starts:
            raise ValidationError("ends_at", "must be after the start")
        with self.r.store.write() as conn:
            D = schema.defenders
            case_id = conn.execute(sa.select(D.c.case_id).where(D.c.id == defender_id)).scalar()
            if case_id is None:
                raise NotFound(f"no defender {defender_id}")
            self.r.require_in_case("write", "defender", defender_id, str(case_id))
            steps = self._check_chain(conn, str(case_id), chain)
            token = secrets.token_urlsafe(18)
            schedule_id = self.r.new_id()
            sealer = sealer_for(conn, self.r.keyring, str(case_id))
            conn.execute(sa.insert(S), [{
                "id": schedule_id, "case_id": case_id, "defender_id": defender_id,
                "interval_minutes": int(interval.total_seconds() // 60),
                "grace_minutes": ",".join(str(g) for g in grace),
                "chain_ct": sealer.seal_json("checkin_schedules", schedule_id, "chain", 0, steps),
                "status": "active", "starts_at": starts, "ends_at": ends_at,
                "next_due_at": starts + interval, "last_checkin_at": None,
                "escalation_step": 0, "token_hash": hash_token(token), "created_at": now,
                "created_by": self.r.actor,
            }])  # fmt: skip
            self.r.audit.record(conn, "checkin.schedule", object_type="defender",
                                object_id=defender_id,
                                detail={"schedule": schedule_id, "every_minutes":
                                        int(interval.total_seconds() // 60),
                                        "chain": len(steps)})  # fmt: skip
            return self._load(conn, sealer, conn.execute(
                sa.select(S).where(S.c.id == schedule_id)).one()), token  # fmt: skip

    def _check_chain(
        self, conn: Connection, case_id: str, chain: builtins.list[dict[str, str]]
    ) -> builtins.list[dict[str, str]]:
        steps: builtins.list[dict[str, str]] = []
        if not chain:
            officer = conn.execute(sa.select(schema.cases.c.officer_id)
                                   .where(schema.cases.c.id == case_id)).scalar()  # fmt: skip
            if officer is None:
                raise ValidationError("chain", "give whom to alert (no officer is assigned)")
            chain = [{"user": str(officer)}]
        if len(chain) > MAX_CHAIN:
            raise ValidationError("chain", f"at most {MAX_CHAIN} steps")
        for step in chain:
            if "user" in step:
                found = conn.execute(sa.select(schema.users.c.id)
                                     .where(schema.users.c.id == step["user"])).first()  # fmt: skip
                if found is None:
                    raise ValidationError("chain", f"no user {step['user']}")
                steps.append({"user": step["user"]})
            elif "email" in step:
                address = step["email"].strip()
                if address.count("@") != 1 or "\n" in address or len(address) > 254:
                    raise ValidationError("chain", f"{address!r} is not an e-mail address")
                steps.append({"email": address})
            elif "webhook" in step:
                if not step["webhook"].startswith(("https://", "http://")) or not step.get(
                    "secret"
                ):
                    raise ValidationError("chain", "a webhook needs an http(s) URL and a secret")
                steps.append({"webhook": step["webhook"], "secret": step["secret"]})
            else:
                raise ValidationError("chain", "each step is a user, an email or a webhook")
        return steps

    def new_link(self, schedule_id: str) -> str:
        """Replace her link (lost, or seen by someone else); returns the new token."""
        token = secrets.token_urlsafe(18)
        with self.r.store.write() as conn:
            row = self._row(conn, schedule_id, "write")
            conn.execute(sa.update(S).where(S.c.id == row.id)
                         .values(token_hash=hash_token(token)))  # fmt: skip
            self.r.audit.record(
                conn,
                "checkin.link",
                object_type="defender",
                object_id=row.defender_id,
                detail={"schedule": row.id},
            )
        return token

    def stop(self, schedule_id: str) -> None:
        with self.r.store.write() as conn:
            row = self._row(conn, schedule_id, "write")
            conn.execute(sa.update(S).where(S.c.id == row.id)
                         .values(status="stopped", token_hash=None))  # fmt: skip
            self.r.notifications.cancel(conn, f"checkin:{row.id}:")
            self.r.audit.record(
                conn,
                "checkin.stop",
                object_type="defender",
                object_id=row.defender_id,
                detail={"schedule": row.id},
            )

    def record(self, schedule_id: str, note: str | None = None) -> Schedule:
        """An officer records a check-in she received (by phone, in person)."""
        with self.r.store.write() as conn:
            row = self._row(conn, schedule_id, "write")
            self._check_in(conn, row, "officer", self.r.actor, note)
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            return self._load(conn, sealer, conn.execute(
                sa.select(S).where(S.c.id == row.id)).one())  # fmt: skip

    def public_wait(self, address: str) -> timedelta:
        """How long this client address must wait before the public check-in page takes
        another token (the sign-in throttle's back-off, counted on failed tokens only)."""
        key = self._throttle_key(address)
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(T).where(T.c.key == key)).first()
        state = None if row is None else throttle.ThrottleState(
            int(row.failures), utc(row.last_failure_at),
            None if row.blocked_until is None else utc(row.blocked_until))  # fmt: skip
        return throttle.retry_after(state, self.r.clock.now())

    def public_failure(self, address: str) -> None:
        """Count a spent or unknown token offered from this address."""
        key = self._throttle_key(address)
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                             {"k": f"amparo-throttle:{key}"})  # fmt: skip
            row = conn.execute(sa.select(T).where(T.c.key == key)).first()
            state = None if row is None else throttle.ThrottleState(
                int(row.failures), utc(row.last_failure_at),
                None if row.blocked_until is None else utc(row.blocked_until))  # fmt: skip
            new = throttle.record_failure(state, now)
            values = {"failures": new.failures, "last_failure_at": new.last_failure_at,
                      "blocked_until": new.blocked_until}  # fmt: skip
            if row is None:
                conn.execute(sa.insert(T), [{"key": key, **values}])
            else:
                conn.execute(sa.update(T).where(T.c.key == key).values(**values))

    def _throttle_key(self, address: str) -> str:
        return throttle.address_key(self.r.keyring.subkey("throttle/checkin"), address)

    def check_in_with_token(self, token: str, method: str = "link") -> tuple[datetime, str]:
        """The defender's own check-in, without an account: the token is the credential.

        Returns when the next check-in is due and her next one-time token. A spent, unknown
        or stopped link raises NotFound, all alike.
        """
        if not token or len(token) > 200:
            raise NotFound("no such check-in link")
        fresh = secrets.token_urlsafe(18)
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(S).where(S.c.token_hash == hash_token(token))).first()
            if row is None or row.status != "active":
                raise NotFound("no such check-in link")
            spent = conn.execute(
                sa.update(S).where(S.c.id == row.id, S.c.token_hash == hash_token(token))
                .values(token_hash=hash_token(fresh))
            ).rowcount  # fmt: skip
            if not spent:
                raise NotFound("no such check-in link")
            due = self._check_in(conn, row, method, "checkin-link", None)
        return due, fresh

    def _check_in(
        self, conn: Connection, row: Row[Any], method: str, by: str, note: str | None
    ) -> datetime:
        if row.status != "active":
            raise Conflict("this check-in schedule is not active")
        now = self.r.clock.now()
        sealer = sealer_for(conn, self.r.keyring, row.case_id)
        checkin_id = self.r.new_id()
        conn.execute(sa.insert(K), [{
            "id": checkin_id, "schedule_id": row.id, "case_id": row.case_id, "at": now,
            "method": method, "recorded_by": by,
            "note_ct": sealer.seal("checkins", checkin_id, "note", 0, (note or "").strip() or None),
        }])  # fmt: skip
        due = now + timedelta(minutes=row.interval_minutes)
        alerted = row.escalation_step
        conn.execute(sa.update(S).where(S.c.id == row.id).values(
            last_checkin_at=now, next_due_at=due, escalation_step=0))  # fmt: skip
        cancelled = self.r.notifications.cancel(conn, f"checkin:{row.id}:")
        if alerted:
            chain = sealer.open_json("checkin_schedules", row.id, "chain", 0, row.chain_ct) or []
            stamp = utc(row.next_due_at).isoformat()
            for step_no, step in enumerate(chain[:alerted]):
                for n, recipient in enumerate(self._recipients(conn, step, "checkin.resumed")):
                    self.r.notifications.queue(
                        conn, case_id=row.case_id, event="checkin.resumed", recipient=recipient,
                        dedupe_key=f"resumed:{row.id}:{stamp}:{step_no}:{n}",
                        link=f"{self.r.settings.public_url}/cases/{row.case_id}",
                    )  # fmt: skip
        self.r.audit.record(
            conn,
            "checkin.record",
            object_type="defender",
            object_id=row.defender_id,
            detail={
                "schedule": row.id,
                "method": method,
                "escalation_stopped": alerted,
                "cancelled": cancelled,
            },
        )
        return due

    def _recipients(
        self, conn: Connection, step: dict[str, str], event: str
    ) -> builtins.list[dict[str, str]]:
        if "user" not in step:
            return [step]
        prefs = self.r.notifications.preferences(step["user"], conn)
        out: builtins.list[dict[str, str]] = []
        if prefs.wants(event) or event.startswith("checkin."):  # escalations always go out
            if prefs.email:
                out.append({"email": prefs.email})
            if prefs.webhook_url and prefs.webhook_secret:
                out.append({"webhook": prefs.webhook_url, "secret": prefs.webhook_secret})
        return out

    def escalate_due(self) -> int:
        """Alert the next step of every overdue schedule whose grace has run out; end the
        schedules past their end. Returns the number of notifications queued."""
        now = self.r.clock.now()
        queued = 0
        with self.r.store.write() as conn:
            conn.execute(sa.update(S).where(S.c.status == "active", S.c.ends_at.is_not(None),
                                            S.c.ends_at < now, S.c.next_due_at > S.c.ends_at)
                         .values(status="ended", token_hash=None))  # fmt: skip
            ids = conn.execute(sa.select(S.c.id).where(
                S.c.status == "active", S.c.next_due_at < now).order_by(S.c.next_due_at)
            ).scalars().all()  # fmt: skip
        for schedule_id in ids:
            with self.r.store.write() as conn:
                stmt = sa.select(S).where(S.c.id == schedule_id, S.c.status == "active")
                if conn.dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                row = conn.execute(stmt).first()
                if row is None:
                    continue
                queued += self._escalate(conn, row, now)
        return queued

    def _escalate(self, conn: Connection, row: Row[Any], now: datetime) -> int:
        sealer = sealer_for(conn, self.r.keyring, row.case_id)
        chain = sealer.open_json("checkin_schedules", row.id, "chain", 0, row.chain_ct) or []
        grace = [int(g) for g in row.grace_minutes.split(",")]
        due = utc(row.next_due_at)
        step = row.escalation_step
        queued = 0
        while step < len(chain):
            wait = sum(grace[min(i, len(grace) - 1)] for i in range(step + 1))
            if now < due + timedelta(minutes=wait):
                break
            moved = conn.execute(sa.update(S).where(S.c.id == row.id,
                                                    S.c.escalation_step == step)
                                 .values(escalation_step=step + 1)).rowcount  # fmt: skip
            if not moved:  # another worker took this step
                break
            notices = 0
            for n, recipient in enumerate(self._recipients(conn, chain[step], "checkin.missed")):
                notices += self.r.notifications.queue(
                    conn, case_id=row.case_id, event="checkin.missed", recipient=recipient,
                    dedupe_key=f"checkin:{row.id}:{due.isoformat()}:{step}:{n}",
                    link=f"{self.r.settings.public_url}/cases/{row.case_id}",
                )  # fmt: skip
            self.r.audit.record(
                conn,
                "checkin.missed",
                object_type="defender",
                object_id=row.defender_id,
                detail={"schedule": row.id, "step": step + 1, "notifications": notices},
                actor="scheduler",
            )
            queued += notices
            step += 1
        return queued

    def status(
        self, *, defender_id: str | None = None, case_id: str | None = None,
        active_only: bool = False,
    ) -> builtins.list[Schedule]:  # fmt: skip
        """Schedules with their last check-ins, in the cases the principal may see."""
        visible = self.r.visible_cases()
        if visible is not None and not visible:
            return []
        out: builtins.list[Schedule] = []
        with self.r.store.read() as conn:
            stmt = sa.select(S).order_by(S.c.next_due_at)
            if defender_id:
                stmt = stmt.where(S.c.defender_id == defender_id)
            if case_id:
                stmt = stmt.where(S.c.case_id == case_id)
            if active_only:
                stmt = stmt.where(S.c.status == "active")
            if visible is not None:
                stmt = stmt.where(in_cases(S.c.case_id, visible, conn.dialect.name))
            for row in conn.execute(stmt).all():
                out.append(self._load(conn, sealer_for(conn, self.r.keyring, row.case_id), row))
        self.r.audit.record_alone("checkin.status", object_type="defender",
                                  object_id=defender_id, detail={"count": len(out)})  # fmt: skip
        return out

    def _row(self, conn: Connection, schedule_id: str, action: str) -> Row[Any]:
        row = conn.execute(sa.select(S).where(S.c.id == schedule_id)).first()
        if row is None:
            raise NotFound(f"no check-in schedule {schedule_id}")
        self.r.require_in_case(action, "defender", schedule_id, row.case_id)
        return row

    def _load(self, conn: Connection, sealer: CaseSealer, row: Row[Any]) -> Schedule:
        recent = conn.execute(sa.select(K).where(K.c.schedule_id == row.id)
                              .order_by(K.c.at.desc()).limit(20)).all()  # fmt: skip
        return Schedule(
            id=row.id, case_id=row.case_id, defender_id=row.defender_id,
            interval_minutes=row.interval_minutes,
            grace_minutes=[int(g) for g in row.grace_minutes.split(",")],
            chain=sealer.open_json("checkin_schedules", row.id, "chain", 0, row.chain_ct) or [],
            status=row.status, starts_at=utc(row.starts_at),
            ends_at=None if row.ends_at is None else utc(row.ends_at),
            next_due_at=utc(row.next_due_at),
            last_checkin_at=None if row.last_checkin_at is None else utc(row.last_checkin_at),
            escalation_step=row.escalation_step,
            checkins=[{"at": utc(k.at), "method": k.method, "by": k.recorded_by,
                       "note": sealer.open("checkins", k.id, "note", 0, k.note_ct)}
                      for k in recent],
        )  # fmt: skip
