"""Server-side sessions for the web interface, and their CSRF tokens (no web framework here).

A session is a random 256-bit secret held in the browser's cookie; the ``sessions`` table
keeps only its SHA-256, so a copy of the database holds no usable session. A session dies:

- when its user signs out (``destroy``), is disabled, or changes password or second factor:
  those bump ``users.session_epoch`` and a session only lives while its ``user_epoch``
  matches;
- after ``idle_timeout`` without a request (default 30 minutes) and ``absolute_timeout``
  after sign-in (default 12 hours), whatever the activity.

Every privilege change (password accepted, second factor accepted, re-authentication) issues
a new secret and deletes the old row, so a secret planted or observed before sign-in is
worthless after it. The CSRF token of a session is HMAC-SHA256 under a vault subkey of the
session's id hash: nothing to store, it changes whenever the session rotates, and it cannot
be computed from the database alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "DEFAULT_ABSOLUTE_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "SECRET_BYTES",
    "TOUCH_INTERVAL",
    "SessionInfo",
    "SessionStore",
    "hash_secret",
]

SECRET_BYTES = 32  # random bytes per session secret: 256 bits
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)
DEFAULT_ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_INTERVAL = timedelta(minutes=1)  # last_seen_at is written at most this often
MAX_SECRET_LENGTH = 100  # characters; longer cookie values are not ours
S = schema.sessions
U = schema.users


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass(frozen=True)
class SessionInfo:
    id_hash: bytes
    user_id: str
    username: str
    role: str
    mfa_complete: bool
    mfa_enrolled: bool
    created_at: datetime
    last_seen_at: datetime
    reauthenticated_at: datetime | None
    language: str | None = None  # the account's chosen interface language


class SessionStore:
    def __init__(
        self,
        registry: Registry,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
    ) -> None:
        if idle_timeout <= timedelta(0) or absolute_timeout <= timedelta(0):
            raise ValueError("session timeouts must be positive")
        self.r = registry
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout

    # -- life cycle -------------------------------------------------------------------------
    def create(
        self,
        user_id: str,
        mfa_complete: bool,
        *,
        user_epoch: int | None = None,
        replaces: str | None = None,
    ) -> str:
        """A new session; returns the secret for the cookie (never stored).

        ``user_epoch`` is the epoch the login step saw (so a password change racing the login
        still wins); ``replaces`` is an older secret of the same browser, deleted in the same
        transaction.
        """
        secret = secrets.token_urlsafe(SECRET_BYTES)
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            if replaces is not None:
                conn.execute(sa.delete(S).where(S.c.id_hash == hash_secret(replaces)))
            self._purge(conn, now)
            if user_epoch is None:
                user_epoch = int(
                    conn.execute(sa.select(U.c.session_epoch).where(U.c.id == user_id)).scalar_one()
                )
            conn.execute(
                sa.insert(S),
                [
                    {
                        "id_hash": hash_secret(secret),
                        "user_id": user_id,
                        "user_epoch": user_epoch,
                        "mfa_complete": mfa_complete,
                        "created_at": now,
                        "last_seen_at": now,
                        "reauthenticated_at": None,
                    }
                ],
            )
        return secret

    def load(self, secret: str | None) -> SessionInfo | None:
        """The live session behind a cookie value, or None (and a dead one is deleted)."""
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            return None
        id_hash = hash_secret(secret)
        now = self.r.clock.now()
        query = (
            sa.select(
                S,
                U.c.username,
                U.c.role,
                U.c.disabled_at,
                U.c.session_epoch,
                U.c.mfa_enrolled_at,
                U.c.language,
            )
            .join(U, U.c.id == S.c.user_id)
            .where(S.c.id_hash == id_hash)
        )
        with self.r.store.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        created, seen = utc(row.created_at), utc(row.last_seen_at)
        if (
            row.disabled_at is not None
            or int(row.session_epoch) != int(row.user_epoch)
            or now - seen > self.idle_timeout
            or now - created > self.absolute_timeout
        ):
            with self.r.store.write() as conn:
                conn.execute(sa.delete(S).where(S.c.id_hash == id_hash))
            return None
        if now - seen >= TOUCH_INTERVAL:
            with self.r.store.write() as conn:
                conn.execute(sa.update(S).where(S.c.id_hash == id_hash).values(last_seen_at=now))
            seen = now
        return SessionInfo(
            id_hash=id_hash,
            user_id=str(row.user_id),
            username=str(row.username),
            role=str(row.role),
            mfa_complete=bool(row.mfa_complete),
            mfa_enrolled=row.mfa_enrolled_at is not None,
            created_at=created,
            last_seen_at=seen,
            reauthenticated_at=None
            if row.reauthenticated_at is None
            else utc(row.reauthenticated_at),
            language=row.language,
        )

    def destroy(self, secret: str) -> None:
        with self.r.store.write() as conn:
            conn.execute(sa.delete(S).where(S.c.id_hash == hash_secret(secret)))

    def destroy_all(self, user_id: str) -> int:
        """End every session of a user; returns how many there were."""
        with self.r.store.write() as conn:
            done = conn.execute(sa.delete(S).where(S.c.user_id == user_id))
        return int(done.rowcount)

    def mark_reauthenticated(self, secret: str) -> str:
        """Record a re-authentication now and rotate: returns the new secret.

        The new session keeps the old one's creation time, so re-authenticating never
        stretches the absolute timeout.
        """
        old = hash_secret(secret)
        new_secret = secrets.token_urlsafe(SECRET_BYTES)
        now = self.r.clock.now()
        with self.r.store.write() as conn:
            row = conn.execute(sa.select(S).where(S.c.id_hash == old)).first()
            if row is None or not row.mfa_complete:
                raise LookupError("no signed-in session to re-authenticate")
            conn.execute(sa.delete(S).where(S.c.id_hash == old))
            conn.execute(
                sa.insert(S),
                [
                    {
                        "id_hash": hash_secret(new_secret),
                        "user_id": row.user_id,
                        "user_epoch": row.user_epoch,
                        "mfa_complete": True,
                        "created_at": row.created_at,
                        "last_seen_at": now,
                        "reauthenticated_at": now,
                    }
                ],
            )
        return new_secret

    def count(self, user_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(S)
        if user_id is not None:
            query = query.where(S.c.user_id == user_id)
        with self.r.store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def _purge(self, conn: Connection, now: datetime) -> None:
        """Delete sessions past either timeout, so the table holds only live ones."""
        conn.execute(
            sa.delete(S).where(
                (S.c.last_seen_at < now - self.idle_timeout)
                | (S.c.created_at < now - self.absolute_timeout)
            )
        )

    # -- CSRF -------------------------------------------------------------------------------
    def csrf_token(self, session: SessionInfo) -> str:
        key = self.r.keyring.subkey("csrf")
        return hmac.new(key, session.id_hash, hashlib.sha256).hexdigest()

    def check_csrf(self, session: SessionInfo, token: str | None) -> bool:
        if not token:
            return False
        return hmac.compare_digest(token.encode("utf-8"), self.csrf_token(session).encode())
