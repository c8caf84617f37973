"""Accounts: users, passwords, the mandatory second factor, login throttling, API tokens.

Every administrative change (adding, disabling, enabling an account, resetting its second
factor, issuing or revoking a token) requires ``manage_users`` and, like a password change,
leaves exactly one audit entry in the same transaction: ids and codes only, never a name,
password or secret.

Login is two steps. ``authenticate`` checks the password and answers ``needs_enrolment``
(first login: the user must enrol an authenticator before anything else) or
``needs_second_factor``; ``verify_second_factor`` (or ``confirm_totp_enrolment``) completes
it. Every failure answers the same ``LoginStep`` whether the name is unknown, the password
wrong or the account disabled, after the same one full Argon2 verification, so neither the
answer nor its timing tells which names exist. Failures count against both the account and
the client address (see amparo.security.throttle); the account's count is cleared only by a
complete login, so knowing the password does not buy unlimited second-factor guesses.

API tokens are ``amp_`` + 32 random bytes, shown once and stored as SHA-256: a 256-bit random
secret needs no stretching, and the hash is looked up directly through a unique index.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amparo.clock import utc
from amparo.errors import Conflict, NotFound, ValidationError
from amparo.security import passwords, throttle, totp
from amparo.security.aead import aad_for, open_sealed, seal
from amparo.security.permissions import USER_ROLES, Resource
from amparo.store import schema

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = [
    "GENERIC_CODE_FAILURE",
    "GENERIC_FAILURE",
    "TOKEN_PREFIX",
    "TOKEN_SCOPES",
    "AccountService",
    "LoginStep",
    "TokenInfo",
    "TokenPrincipal",
    "User",
    "normalise_username",
]

GENERIC_FAILURE = "invalid username or password"
GENERIC_CODE_FAILURE = "invalid code"
TOKEN_PREFIX = "amp_"  # noqa: S105 (a marker that helps secret scanners, not a secret)
TOKEN_BYTES = 32  # random bytes per API token: 256 bits
# Ordered: each scope holds the ones before it. "export" tokens may also export without an
# interactive re-authentication (see Actor.standing_reauth); "admin" is for admin users only.
TOKEN_SCOPES = ("read", "write", "export", "admin")
MAX_TOKEN_DAYS = 365  # a script token lives at most a year; rotating it is the point
LAST_USED_STEP = timedelta(minutes=1)  # a token's last_used_at is rewritten at most this often
MAX_DISPLAY_NAME = 200  # characters
_USERNAME = re.compile(r"^[\w.@+-]{2,80}$")  # after case folding; 80 = the column's width

# LoginStep.status values
FAILED = "failed"
THROTTLED = "throttled"
NEEDS_ENROLMENT = "needs_enrolment"
NEEDS_SECOND_FACTOR = "needs_second_factor"
AUTHENTICATED = "authenticated"


def normalise_username(username: str) -> str:
    """NFC, case-folded, trimmed: 'Ana', 'ANA' and 'ana ' are one account."""
    folded = unicodedata.normalize("NFC", username).strip().casefold()
    return unicodedata.normalize("NFC", folded)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str | None
    role: str
    mfa_enrolled: bool
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    session_epoch: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "mfa_enrolled": self.mfa_enrolled,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
            "password_changed_at": self.password_changed_at.isoformat(),
        }


@dataclass(frozen=True)
class LoginStep:
    """The answer to one login step. Failures carry no hint of which check failed."""

    status: str  # failed | throttled | needs_enrolment | needs_second_factor | authenticated
    message: str
    user_id: str | None = None
    retry_after_s: int | None = None
    session_epoch: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (NEEDS_ENROLMENT, NEEDS_SECOND_FACTOR, AUTHENTICATED)


@dataclass(frozen=True)
class TokenPrincipal:
    token_id: str
    user_id: str
    username: str
    role: str
    scope: str


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user_id: str
    username: str
    name: str
    scope: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str  # active | expired | revoked

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "user": self.username,
            "name": self.name,
            "scope": self.scope,
            "status": self.status,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _failed() -> LoginStep:
    return LoginStep(FAILED, GENERIC_FAILURE)


def _throttled(wait: timedelta) -> LoginStep:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return LoginStep(THROTTLED, f"too many attempts, try again in {seconds} s",
                     retry_after_s=seconds)  # fmt: skip


def token_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


class AccountService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # -- users ------------------------------------------------------------------------------
    def add_user(
        self, username: str, password: str, role: str, display_name: str | None = None
    ) -> User:
        self._require_admin()
        name = normalise_username(username)
        if not _USERNAME.match(name):
            raise ValidationError(
                "username", "must be 2 to 80 letters, digits or . _ - @ + (no spaces)"
            )
        if role not in USER_ROLES:
            raise ValidationError("role", f"must be one of {', '.join(USER_ROLES)}")
        if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
            raise ValidationError("display_name", f"is too long (at most {MAX_DISPLAY_NAME})")
        passwords.check_password_policy(password, name)
        password_hash = passwords.hash_password(password)
        now = self.r.clock.now()
        user_id = self.r.new_id()
        with self.r.store.write() as conn:
            if self._row_by_name(conn, name) is not None:
                raise Conflict(f"a user named '{name}' already exists")
            conn.execute(
                sa.insert(schema.users),
                [
                    {
                        "id": user_id,
                        "username": name,
                        "display_name_ct": self._seal(user_id, "display_name", display_name),
                        "role": role,
                        "password_hash": password_hash,
                        "password_changed_at": now,
                        "totp_secret_ct": None,
                        "totp_last_step": None,
                        "mfa_enrolled_at": None,
                        "disabled_at": None,
                        "session_epoch": 1,
                        "created_at": now,
                    }
                ],
            )
            self._audit(conn, "user.create", "user", user_id, role=role)
        return self.get(user_id)

    def get(self, user_id: str) -> User:
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return self._user(row)

    def get_by_username(self, username: str) -> User:
        with self.r.store.read() as conn:
            row = self._row_by_name(conn, normalise_username(username))
        if row is None:
            raise NotFound(f"no user named '{normalise_username(username)}'")
        return self._user(row)

    def list_users(self) -> list[User]:
        """Every account, display names included: one audit entry per call (a count)."""
        with self.r.store.write() as conn:
            rows = conn.execute(sa.select(schema.users).order_by(schema.users.c.username)).all()
            self._audit(conn, "user.list", None, None, count=len(rows))
        return [self._user(row) for row in rows]

    def disable(self, user_id: str) -> User:
        """Refuse every login and token of this user and end its sessions; nothing is deleted."""
        self._require_admin()
        return self._update(
            user_id, disabled_at=self.r.clock.now(), bump_epoch=True, audit="user.disable"
        )

    def enable(self, user_id: str) -> User:
        self._require_admin()
        return self._update(user_id, disabled_at=None, audit="user.enable")

    def set_language(self, user_id: str, language: str | None) -> None:
        """A person's own interface language (anyone may set their own; admins anyone's)."""
        if user_id != self.r.principal.user_id:
            self._require_admin()
        if language is not None and (len(language) > 8 or not language.isalpha()):
            raise ValidationError("language", "must be a language code such as es")
        with self.r.store.write() as conn:
            done = conn.execute(
                sa.update(schema.users).where(schema.users.c.id == user_id)
                .values(language=language)
            )  # fmt: skip
            if done.rowcount != 1:
                raise NotFound(f"no user {user_id}")
            self._audit(conn, "user.language", "user", user_id, language=language or "default")

    def change_password(self, user_id: str, old: str, new: str) -> None:
        user = self.get(user_id)
        with self.r.store.read() as conn:
            current = conn.execute(
                sa.select(schema.users.c.password_hash).where(schema.users.c.id == user_id)
            ).scalar_one()
        ok, _ = passwords.verify_password(str(current), old)
        if not ok:
            raise ValidationError("old_password", "is not the current password")
        passwords.check_password_policy(new, user.username)
        self._update(
            user_id,
            password_hash=passwords.hash_password(new),
            password_changed_at=self.r.clock.now(),
            bump_epoch=True,
            audit="user.change_password",
        )

    # -- second factor ----------------------------------------------------------------------
    def begin_totp_enrolment(self, user_id: str) -> tuple[str, str, str]:
        """(secret, otpauth URI, inline SVG QR code) for a user without a second factor.

        An enrolled user must have the factor reset by an administrator first: otherwise
        anyone holding the password could replace the second factor with their own.
        """
        user = self.get(user_id)
        if user.mfa_enrolled:
            raise Conflict("a second factor is already enrolled; an administrator must reset it")
        secret = totp.new_secret()
        self._update(
            user_id,
            totp_secret_ct=self._seal(user_id, "totp_secret", secret),
            totp_last_step=None,
        )
        uri = totp.provisioning_uri(secret, user.username)
        return secret, uri, totp.qr_svg(uri)

    def confirm_totp_enrolment(self, user_id: str, code: str) -> list[str]:
        """Check a first code from the app; returns ten recovery codes, shown only now."""
        now = self.r.clock.now()
        with self.r.store.read() as conn:
            row = self._row(conn, user_id)
        if row.mfa_enrolled_at is not None:
            raise Conflict("a second factor is already enrolled")
        if row.totp_secret_ct is None:
            raise Conflict("enrolment was not started")
        secret = self._open(user_id, "totp_secret", row.totp_secret_ct)
        assert secret is not None
        step = totp.verify(secret, code, row.totp_last_step, now)
        if step is None:
            raise ValidationError("code", "does not match: check the authenticator's clock")
        codes = totp.new_recovery_codes()
        hashed = [totp.hash_recovery_code(c) for c in codes]
        with self.r.store.write() as conn:
            conn.execute(
                sa.update(schema.users)
                .where(schema.users.c.id == user_id)
                .values(mfa_enrolled_at=now, totp_last_step=step)
            )
            self._replace_recovery_codes(conn, user_id, hashed)
            self._clear_throttle(conn, [self._user_key(str(row.username))])
        return codes

    def reset_mfa(self, user_id: str) -> User:
        """Forget the second factor and recovery codes; the next login must enrol again."""
        self._require_admin()
        users = schema.users
        with self.r.store.write() as conn:
            self._row(conn, user_id)
            conn.execute(
                sa.delete(schema.recovery_codes).where(schema.recovery_codes.c.user_id == user_id)
            )
            conn.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(
                    totp_secret_ct=None,
                    totp_last_step=None,
                    mfa_enrolled_at=None,
                    session_epoch=users.c.session_epoch + 1,
                )
            )
            self._audit(conn, "user.reset_mfa", "user", user_id)
        return self.get(user_id)

    def recovery_codes_left(self, user_id: str) -> int:
        with self.r.store.read() as conn:
            return len(self._unused_codes(conn, user_id))

    # -- login ------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, address: str) -> LoginStep:
        """First login step: the password. Never tells unknown, wrong and disabled apart."""
        now = self.r.clock.now()
        name = normalise_username(username)
        keys = [self._user_key(name), self._address_key(address)]
        with self.r.store.read() as conn:
            wait = self._wait(conn, keys, now)
            row = None if wait else self._row_by_name(conn, name)
        if wait:
            return _throttled(wait)
        if row is None:
            passwords.dummy_verify(password)
            ok, new_hash = False, None
        else:
            ok, new_hash = passwords.verify_password(str(row.password_hash), password)
        if row is None or not ok or row.disabled_at is not None:
            with self.r.store.write() as conn:
                self._record_failures(conn, keys, now)
            return _failed()
        if new_hash is not None:
            self._update(str(row.id), password_hash=new_hash)
        enrolled = row.mfa_enrolled_at is not None and row.totp_secret_ct is not None
        return LoginStep(
            NEEDS_SECOND_FACTOR if enrolled else NEEDS_ENROLMENT,
            "enter the code from your authenticator app"
            if enrolled
            else "set up an authenticator app to continue",
            user_id=str(row.id),
            session_epoch=int(row.session_epoch),
        )

    def verify_second_factor(self, user_id: str, code: str, address: str) -> LoginStep:
        """Second login step: a TOTP code (each accepted once) or an unused recovery code."""
        now = self.r.clock.now()
        with self.r.store.read() as conn:
            row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).first()
            name = str(row.username) if row is not None else f"id:{user_id}"
            keys = [self._user_key(name), self._address_key(address)]
            wait = self._wait(conn, keys, now)
            unused = [] if row is None else self._unused_codes(conn, user_id)
        if wait:
            return _throttled(wait)
        usable = (
            row is not None
            and row.disabled_at is None
            and row.mfa_enrolled_at is not None
            and row.totp_secret_ct is not None
        )
        accepted = False
        if usable:
            assert row is not None
            with self.r.store.write() as conn:
                accepted = self._consume_factor(conn, row, code, unused, now)
                if accepted:
                    self._clear_throttle(conn, [keys[0]])
        if not accepted:
            with self.r.store.write() as conn:
                self._record_failures(conn, keys, now)
            return LoginStep(FAILED, GENERIC_CODE_FAILURE)
        assert row is not None
        return LoginStep(
            AUTHENTICATED, "signed in", user_id=user_id, session_epoch=int(row.session_epoch)
        )

    def _consume_factor(
        self,
        conn: Connection,
        row: Any,
        code: str,
        unused: Sequence[tuple[str, str]],
        now: datetime,
    ) -> bool:
        compact = "".join(code.split())
        users = schema.users
        if compact.isascii() and compact.isdigit():
            secret = self._open(str(row.id), "totp_secret", row.totp_secret_ct)
            assert secret is not None
            step = totp.verify(secret, compact, row.totp_last_step, now)
            if step is None:
                return False
            # Conditional update: two requests racing with one code cannot both win.
            done = conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .where(sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step))
                .values(totp_last_step=step)
            )
            return done.rowcount == 1
        code_id = totp.match_recovery_code(code, unused)
        if code_id is None:
            return False
        rc = schema.recovery_codes
        done = conn.execute(
            sa.update(rc)
            .where(rc.c.id == code_id)
            .where(rc.c.used_at.is_(None))
            .values(used_at=now)
        )
        return done.rowcount == 1

    # -- API tokens -------------------------------------------------------------------------
    def create_token(self, user_id: str, name: str, scope: str, days: int) -> tuple[str, str]:
        """(token id, secret). The secret is shown this once and never stored."""
        self._require_admin()
        if scope not in TOKEN_SCOPES:
            raise ValidationError("scope", f"must be one of {', '.join(TOKEN_SCOPES)}")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise ValidationError("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
        name = name.strip()
        if not 1 <= len(name) <= 120:
            raise ValidationError("name", "must be 1 to 120 characters")
        user = self.get(user_id)
        if user.disabled:
            raise Conflict(f"user '{user.username}' is disabled")
        if scope == "admin" and user.role != "admin":
            raise ValidationError("scope", "admin tokens are for admin users only")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        now = self.r.clock.now()
        token_id = self.r.new_id()
        with self.r.store.write() as conn:
            conn.execute(
                sa.insert(schema.api_tokens),
                [
                    {
                        "id": token_id,
                        "user_id": user_id,
                        "name": name,
                        "token_hash": token_hash(secret),
                        "scope": scope,
                        "created_at": now,
                        "expires_at": now + timedelta(days=days),
                        "revoked_at": None,
                        "last_used_at": None,
                    }
                ],
            )
            self._audit(conn, "token.create", "token", token_id, user=user_id, scope=scope,
                        days=days)  # fmt: skip
        return token_id, secret

    def list_tokens(self, user_id: str | None = None) -> list[TokenInfo]:
        t, u = schema.api_tokens, schema.users
        query = (
            sa.select(t, u.c.username)
            .join(u, u.c.id == t.c.user_id)
            .order_by(t.c.created_at, t.c.id)
        )
        if user_id is not None:
            query = query.where(t.c.user_id == user_id)
        now = self.r.clock.now()
        with self.r.store.read() as conn:
            rows = conn.execute(query).all()
        infos = []
        for row in rows:
            revoked = None if row.revoked_at is None else utc(row.revoked_at)
            expires = utc(row.expires_at)
            status = "revoked" if revoked else ("expired" if expires <= now else "active")
            infos.append(
                TokenInfo(
                    id=str(row.id),
                    user_id=str(row.user_id),
                    username=str(row.username),
                    name=str(row.name),
                    scope=str(row.scope),
                    created_at=utc(row.created_at),
                    expires_at=expires,
                    revoked_at=revoked,
                    last_used_at=None if row.last_used_at is None else utc(row.last_used_at),
                    status=status,
                )
            )
        return infos

    def resolve_token(self, short_id: str) -> str:
        """The full id of the token whose id ends (or begins) with ``short_id``."""
        from amparo.services.lookup import resolve_prefix

        with self.r.store.read() as conn:
            return resolve_prefix(conn, schema.api_tokens, short_id, "token")

    def revoke_token(self, token_id: str) -> None:
        """Revoke at once; revoking a revoked token changes nothing but is still recorded."""
        self._require_admin()
        t = schema.api_tokens
        with self.r.store.write() as conn:
            found = conn.execute(
                sa.select(t.c.revoked_at, t.c.user_id).where(t.c.id == token_id)
            ).first()
            if found is None:
                raise NotFound(f"no token {token_id}")
            if found.revoked_at is None:
                conn.execute(
                    sa.update(t).where(t.c.id == token_id).values(revoked_at=self.r.clock.now())
                )
            self._audit(conn, "token.revoke", "token", token_id, user=str(found.user_id),
                        already_revoked=found.revoked_at is not None)  # fmt: skip

    def authenticate_token(self, secret: str) -> TokenPrincipal | None:
        """The principal behind a live token, or None (unknown, expired, revoked, disabled).

        ``last_used_at`` is kept to the minute (LAST_USED_STEP), so most calls only read.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        t, u = schema.api_tokens, schema.users
        now = self.r.clock.now()
        # A read: every API request passes here, and a write transaction each time would
        # queue them all behind SQLite's single writer.
        with self.r.store.read() as conn:
            row = conn.execute(
                sa.select(
                    t.c.id,
                    t.c.user_id,
                    t.c.scope,
                    t.c.expires_at,
                    t.c.revoked_at,
                    t.c.last_used_at,
                    u.c.username,
                    u.c.role,
                    u.c.disabled_at,
                )
                .join(u, u.c.id == t.c.user_id)
                .where(t.c.token_hash == token_hash(secret))
            ).first()
        if (
            row is None
            or row.revoked_at is not None
            or utc(row.expires_at) <= now
            or row.disabled_at is not None
        ):
            return None
        if row.last_used_at is None or now - utc(row.last_used_at) >= LAST_USED_STEP:
            with self.r.store.write() as conn:
                conn.execute(sa.update(t).where(t.c.id == row.id).values(last_used_at=now))
        return TokenPrincipal(
            token_id=str(row.id),
            user_id=str(row.user_id),
            username=str(row.username),
            role=str(row.role),
            scope=str(row.scope),
        )

    # -- helpers ----------------------------------------------------------------------------
    def _require_admin(self) -> None:
        self.r.require("manage_users", Resource("users"))

    def _audit(
        self,
        conn: Connection,
        action: str,
        object_type: str | None,
        object_id: str | None,
        **detail: object,
    ) -> None:
        """One entry in the caller's transaction. ``detail`` holds ids and codes only."""
        self.r.audit.record(conn, action, object_type=object_type, object_id=object_id,
                            detail=detail)  # fmt: skip

    def _seal(self, user_id: str, field: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        key = self.r.keyring.subkey("accounts")
        return seal(key, value.encode("utf-8"), aad_for("users", user_id, field))

    def _open(self, user_id: str, field: str, sealed: bytes | None) -> str | None:
        if sealed is None:
            return None
        key = self.r.keyring.subkey("accounts")
        return open_sealed(key, bytes(sealed), aad_for("users", user_id, field)).decode("utf-8")

    def _user(self, row: Any) -> User:
        return User(
            id=str(row.id),
            username=str(row.username),
            display_name=self._open(str(row.id), "display_name", row.display_name_ct),
            role=str(row.role),
            mfa_enrolled=row.mfa_enrolled_at is not None,
            disabled=row.disabled_at is not None,
            created_at=utc(row.created_at),
            password_changed_at=utc(row.password_changed_at),
            session_epoch=int(row.session_epoch),
        )

    @staticmethod
    def _row(conn: Connection, user_id: str) -> Any:
        row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return row

    @staticmethod
    def _row_by_name(conn: Connection, name: str) -> Any:
        return conn.execute(sa.select(schema.users).where(schema.users.c.username == name)).first()

    def _update(
        self, user_id: str, *, bump_epoch: bool = False, audit: str | None = None, **values: Any
    ) -> User:
        """Change columns of one user; ``audit`` names the entry to record with the change."""
        users = schema.users
        if bump_epoch:
            values["session_epoch"] = users.c.session_epoch + 1
        with self.r.store.write() as conn:
            done = conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))
            if done.rowcount != 1:
                raise NotFound(f"no user {user_id}")
            if audit is not None:
                self._audit(conn, audit, "user", user_id)
        return self.get(user_id)

    @staticmethod
    def _unused_codes(conn: Connection, user_id: str) -> list[tuple[str, str]]:
        rc = schema.recovery_codes
        rows = conn.execute(
            sa.select(rc.c.id, rc.c.code_hash)
            .where(rc.c.user_id == user_id)
            .where(rc.c.used_at.is_(None))
        ).all()
        return [(str(r.id), str(r.code_hash)) for r in rows]

    def _replace_recovery_codes(self, conn: Connection, user_id: str, hashed: list[str]) -> None:
        rc = schema.recovery_codes
        conn.execute(sa.delete(rc).where(rc.c.user_id == user_id))
        conn.execute(
            sa.insert(rc),
            [{"id": self.r.new_id(), "user_id": user_id, "code_hash": h, "used_at": None}
             for h in hashed],
        )  # fmt: skip

    # -- throttle storage -------------------------------------------------------------------
    def _user_key(self, name: str) -> str:
        return throttle.user_key(self.r.keyring.subkey("throttle"), name)

    def _address_key(self, address: str) -> str:
        return throttle.address_key(self.r.keyring.subkey("throttle"), address)

    @staticmethod
    def _states(conn: Connection, keys: Iterable[str]) -> dict[str, throttle.ThrottleState]:
        lt = schema.login_throttle
        rows = conn.execute(sa.select(lt).where(lt.c.key.in_(list(keys)))).all()
        return {
            str(r.key): throttle.ThrottleState(
                failures=int(r.failures),
                last_failure_at=utc(r.last_failure_at),
                blocked_until=None if r.blocked_until is None else utc(r.blocked_until),
            )
            for r in rows
        }

    def _wait(self, conn: Connection, keys: Sequence[str], now: datetime) -> timedelta:
        states = self._states(conn, keys)
        return max(throttle.retry_after(states.get(k), now) for k in keys)

    def _record_failures(self, conn: Connection, keys: Sequence[str], now: datetime) -> None:
        lt = schema.login_throttle
        if conn.dialect.name == "postgresql":
            # Parallel guesses must not lose counts (read-then-write races) nor collide on the
            # first insert: serialise per key. SQLite already has a single writer.
            for key in sorted(keys):
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                    {"k": f"amparo-throttle:{key}"},
                )
        states = self._states(conn, keys)
        for key in keys:
            new = throttle.record_failure(states.get(key), now)
            values = {
                "failures": new.failures,
                "last_failure_at": new.last_failure_at,
                "blocked_until": new.blocked_until,
            }
            if key in states:
                conn.execute(sa.update(lt).where(lt.c.key == key).values(**values))
            else:
                conn.execute(sa.insert(lt), [{"key": key, **values}])

    @staticmethod
    def _clear_throttle(conn: Connection, keys: Sequence[str]) -> None:
        lt = schema.login_throttle
        conn.execute(sa.delete(lt).where(lt.c.key.in_(list(keys))))
