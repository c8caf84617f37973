"""The notifications outbox: queue in the transaction that decides, deliver later, exactly once.

``queue`` inserts a row whose ``dedupe_key`` is unique: two schedulers that decide the same
escalation at the same moment insert it once. ``deliver_due`` (the in-process loop) claims due
rows with a lease (``claimed_by``, ``claimed_until``); ``deliver_one`` (one procrastinate job of
the team worker, amparo.jobs) claims one row the same way. On PostgreSQL the claim is ``SELECT
... FOR UPDATE SKIP LOCKED``, so two workers never claim the same row; on SQLite the single
writer serialises claims. A row is marked sent only by its claimant, and only a pending row is
claimed: a second job for a message already sent does nothing. A failure is retried with
exponential back-off (``retry_after``, twice that, four times ... at most 6 hours; one minute
first by default) up to MAX_ATTEMPTS. A worker that dies between sending and marking leaves a
lease that expires: that one message may then go twice (an outbox gives at-least-once delivery
across crashes, exactly once otherwise). Every send and failure is audited, with the channel
and event, never the address. The outbox is the ledger in both modes: what was sent, when, how
often it was tried.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.errors import NotFound, ValidationError
from amparo.notify import EVENTS, Notice, SendError, send_email, send_webhook
from amparo.security.aead import aad_for, open_sealed, seal
from amparo.services.sealing import sealer_for
from amparo.store import schema
from amparo.store.schema import codes_column, codes_from_column

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["MAX_ATTEMPTS", "RETRY_AFTER", "Delivery", "DeliveryReport", "NotificationService",
           "Preferences", "case_reference"]  # fmt: skip

N = schema.notifications
P = schema.notification_prefs
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)  # a claim older than this is abandoned and may be claimed again
MAX_BACKOFF = timedelta(hours=6)
RETRY_AFTER = timedelta(minutes=1)  # the first retry's wait; it doubles with each attempt
# A job scheduled for a retry may start a moment before the row's next_attempt_at says (the
# queue's clock and this one): within this, the row counts as due.
CLOCK_SLACK = timedelta(seconds=5)
CHANNELS = ("email", "webhook")


def case_reference(case_id: str) -> str:
    """What a notification calls a case: the id's last 8 characters (people type those)."""
    return "AMP-" + case_id[-8:].upper()


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """What ``deliver_one`` did with one message."""

    status: str  # sent | failed (retry in retry_in) | gave_up | skipped (not ours to send now)
    retry_in: timedelta | None = None
    error: str | None = None


@dataclass(frozen=True)
class Preferences:
    user_id: str
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None
    events: tuple[str, ...]  # empty: every event

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class NotificationService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # -- preferences ---------------------------------------------------------------------

    def _prefs_key(self) -> bytes:
        return self.r.keyring.subkey("notification-prefs")

    def set_preferences(
        self, user_id: str, *, email: str | None = None, webhook_url: str | None = None,
        webhook_secret: str | None = None, events: builtins.list[str] | None = None,
    ) -> Preferences:  # fmt: skip
        """A user's own preferences (or anyone's, for whoever manages users)."""
        if user_id != self.r.principal.user_id:
            from amparo.security.permissions import Resource

            self.r.require("manage_users", Resource("users"))
        if email is not None and (email.count("@") != 1 or len(email) > 254 or "\n" in email):
            raise ValidationError("email", "is not an e-mail address")
        if webhook_url and not webhook_url.startswith(("https://", "http://")):
            raise ValidationError("webhook_url", "must start with https://")
        if webhook_url and not webhook_secret:
            raise ValidationError("webhook_secret", "a webhook needs a shared secret")
        unknown = set(events or ()) - set(EVENTS)
        if unknown:
            raise ValidationError("events", f"unknown event(s) {', '.join(sorted(unknown))}")
        key = self._prefs_key()
        hook = json.dumps({"url": webhook_url, "secret": webhook_secret}) if webhook_url else None
        row = {
            "user_id": user_id,
            "email_ct": None if not email else
            seal(key, email.encode(), aad_for("notification_prefs", user_id, "email")),
            "webhook_ct": None if hook is None else
            seal(key, hook.encode(), aad_for("notification_prefs", user_id, "webhook")),
            "events": codes_column(sorted(set(events or ()))),
            "updated_at": self.r.clock.now(),
        }  # fmt: skip
        with self.r.store.write() as conn:
            if conn.execute(sa.select(schema.users.c.id).where(schema.users.c.id == user_id)
                            ).first() is None:  # fmt: skip
                raise NotFound(f"no user {user_id}")
            conn.execute(sa.delete(P).where(P.c.user_id == user_id))
            conn.execute(sa.insert(P), [row])
            channels = [c for c, v in (("email", email), ("webhook", webhook_url)) if v]
            self.r.audit.record(conn, "notification.prefs", object_type="user",
                                object_id=user_id, detail={"channels": channels})  # fmt: skip
        return self.preferences(user_id)

    def preferences(self, user_id: str, conn: Connection | None = None) -> Preferences:
        if conn is None:
            with self.r.store.read() as own:
                return self.preferences(user_id, own)
        row = conn.execute(sa.select(P).where(P.c.user_id == user_id)).first()
        if row is None:
            return Preferences(user_id, None, None, None, ())
        key = self._prefs_key()
        email = (
            None
            if row.email_ct is None
            else open_sealed(
                key, bytes(row.email_ct), aad_for("notification_prefs", user_id, "email")
            ).decode()
        )
        hook = (
            {}
            if row.webhook_ct is None
            else json.loads(
                open_sealed(
                    key, bytes(row.webhook_ct), aad_for("notification_prefs", user_id, "webhook")
                )
            )
        )
        return Preferences(user_id, email, hook.get("url"), hook.get("secret"),
                           tuple(codes_from_column(row.events)))  # fmt: skip

    # -- the outbox ----------------------------------------------------------------------

    def queue(
        self, conn: Connection, *, case_id: str, event: str, recipient: dict[str, str],
        dedupe_key: str, link: str,
    ) -> bool:  # fmt: skip
        """Queue one message in the caller's transaction; False if its key was queued before.

        ``recipient`` is ``{"email": address}`` or ``{"webhook": url, "secret": secret}``.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown notification event {event!r}")
        channel = "email" if "email" in recipient else "webhook"
        notification_id = self.r.new_id()
        sealer = sealer_for(conn, self.r.keyring, case_id)
        row = {
            "id": notification_id, "case_id": case_id, "dedupe_key": dedupe_key[:200],
            "event": event, "channel": channel,
            "recipient_ct": sealer.seal("notifications", notification_id, "recipient", 0,
                                        json.dumps(recipient)),
            "reference": case_reference(case_id), "link": link[:400], "status": "pending",
            "attempts": 0, "next_attempt_at": self.r.clock.now(), "created_at": self.r.clock.now(),
        }  # fmt: skip
        insert = postgresql.insert(N) if conn.dialect.name == "postgresql" else sqlite.insert(N)
        result = conn.execute(insert.values(**row).on_conflict_do_nothing(
            index_elements=["dedupe_key"]))  # fmt: skip
        return bool(result.rowcount)

    def cancel(self, conn: Connection, dedupe_prefix: str) -> int:
        """Cancel messages not yet sent whose key starts with ``dedupe_prefix``."""
        return int(conn.execute(
            sa.update(N).where(N.c.dedupe_key.startswith(dedupe_prefix, autoescape=True),
                               N.c.status == "pending", N.c.claimed_by.is_(None))
            .values(status="cancelled")
        ).rowcount)  # fmt: skip

    def _claimable(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(N.c.status == "pending", N.c.next_attempt_at <= now,
                       sa.or_(N.c.claimed_until.is_(None), N.c.claimed_until < now))  # fmt: skip

    def _claim(
        self, worker: str, limit: int, notification_id: str | None = None
    ) -> builtins.list[Any]:
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            if notification_id is None:
                stmt = sa.select(N.c.id).where(self._claimable(now))
            else:
                stmt = sa.select(N.c.id).where(N.c.id == notification_id,
                                               self._claimable(now + CLOCK_SLACK))  # fmt: skip
            stmt = stmt.order_by(N.c.next_attempt_at, N.c.id).limit(limit)
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = conn.execute(stmt).scalars().all()
            if not ids:
                return []
            conn.execute(sa.update(N).where(N.c.id.in_(ids)).values(
                claimed_by=worker, claimed_until=now + LEASE))  # fmt: skip
            return builtins.list(conn.execute(sa.select(N).where(N.c.id.in_(ids)).order_by(
                N.c.next_attempt_at, N.c.id)).all())  # fmt: skip

    def due(
        self, limit: int = 500, after: tuple[datetime, str] | None = None
    ) -> builtins.list[tuple[str, str, datetime]]:
        """Messages that may be sent now and that no one holds: ``(id, dedupe_key,
        next_attempt_at)``, oldest first, ``limit`` after ``after`` (a previous page's last)."""
        now = self.r.clock.now()
        stmt = sa.select(N.c.id, N.c.dedupe_key, N.c.next_attempt_at).where(self._claimable(now))
        if after is not None:
            stmt = stmt.where(sa.tuple_(N.c.next_attempt_at, N.c.id) > after)
        with self.r.store.read() as conn:
            rows = conn.execute(stmt.order_by(N.c.next_attempt_at, N.c.id).limit(limit)).all()
        return [(r.id, r.dedupe_key, r.next_attempt_at) for r in rows]

    def deliver_due(
        self, worker: str = "worker", limit: int = 50, retry_after: timedelta = RETRY_AFTER
    ) -> DeliveryReport:
        """Send what is due, oldest first; returns what was sent and what failed."""
        report = DeliveryReport()
        for row in self._claim(worker, limit):
            done = self._send(row, worker, retry_after)
            if done.status == "sent":
                report.sent += 1
                report.ids.append(row.id)
            else:
                report.failed += 1
        return report

    def deliver_one(
        self, notification_id: str, worker: str, retry_after: timedelta = RETRY_AFTER
    ) -> Delivery:
        """Send one message if it is pending, due and unclaimed (else ``skipped``)."""
        rows = self._claim(worker, 1, notification_id)
        if not rows:
            return Delivery("skipped")
        return self._send(rows[0], worker, retry_after)

    def _send(self, row: Any, worker: str, retry_after: timedelta) -> Delivery:
        with self.r.store.read() as conn:
            sealer = sealer_for(conn, self.r.keyring, row.case_id)
            recipient = json.loads(sealer.open("notifications", row.id, "recipient", 0,
                                               row.recipient_ct) or "{}")  # fmt: skip
        notice = Notice(row.event, row.reference, row.link, row.id)
        error = None
        try:
            if row.channel == "email":
                send_email(self.r.settings, recipient["email"], notice)
            else:
                send_webhook(recipient["webhook"], recipient["secret"], notice)
        except SendError as exc:
            error = str(exc)[:200]
        return self._finish(row, worker, error, retry_after)

    def _finish(
        self, row: Any, worker: str, error: str | None, retry_after: timedelta = RETRY_AFTER
    ) -> Delivery:
        now = self.r.clock.now()
        attempts = row.attempts + 1
        with self.r.store.write() as conn:
            mine = (N.c.id == row.id) & (N.c.claimed_by == worker)
            if error is None:
                conn.execute(
                    sa.update(N)
                    .where(mine)
                    .values(status="sent", sent_at=now, attempts=attempts, claimed_until=None)
                )
                self.r.audit.record(
                    conn,
                    "notification.send",
                    object_type="case",
                    object_id=row.case_id,
                    detail={
                        "notification": row.id,
                        "channel": row.channel,
                        "event": row.event,
                        "attempt": attempts,
                    },
                )
            else:
                give_up = attempts >= MAX_ATTEMPTS
                delay = min(retry_after * 2 ** (attempts - 1), MAX_BACKOFF)
                conn.execute(
                    sa.update(N)
                    .where(mine)
                    .values(
                        status="failed" if give_up else "pending",
                        attempts=attempts,
                        next_attempt_at=now + delay,
                        last_error=error,
                        claimed_by=None,
                        claimed_until=None,
                    )
                )
                self.r.audit.record(conn, "notification.fail", object_type="case",
                                    object_id=row.case_id,
                                    detail={"notification": row.id, "channel": row.channel,
                                            "attempt": attempts, "given_up": give_up,
                                            "next": None if give_up else
                                            (now + delay).isoformat()})  # fmt: skip
        if error is None:
            return Delivery("sent")
        if give_up:
            return Delivery("gave_up", error=error)
        return Delivery("failed", retry_in=delay, error=error)

    def outbox(self, case_id: str) -> builtins.list[dict[str, Any]]:
        """A case's notifications without their addresses (for the case page)."""
        self.r.require_in_case("read", "case", case_id, case_id)
        with self.r.store.read() as conn:
            rows = conn.execute(sa.select(
                N.c.id, N.c.event, N.c.channel, N.c.status, N.c.attempts, N.c.created_at,
                N.c.sent_at, N.c.last_error).where(N.c.case_id == case_id)
                .order_by(N.c.created_at.desc(), N.c.id.desc()).limit(100)).all()  # fmt: skip
        return [
            {"id": r.id, "event": r.event, "channel": r.channel, "status": r.status,
             "attempts": r.attempts, "created_at": utc(r.created_at),
             "sent_at": None if r.sent_at is None else utc(r.sent_at), "error": r.last_error}
            for r in rows
        ]  # fmt: skip
