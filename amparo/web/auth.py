"""Sign-in for the web interface: pages, the session cookie, CSRF and ``current_user``.

Sign-in is two steps, each on its own page: ``/login`` (name and password) gives a *partial*
session that reaches only ``/enrol`` (first login: set up an authenticator), ``/verify`` (a
TOTP or recovery code) and ``/logout``; the second factor turns it into a full session under a
new cookie value. Every other route depends on :func:`current_user`, which accepts only a full
session, or on ``/api/...`` an ``Authorization: Bearer amp_...`` token.

CSRF: any request that carries a live session cookie and is not GET, HEAD or OPTIONS must
present the session's token (form field ``csrf`` or header ``X-CSRF-Token``), on every route,
including the sign-in pages; bearer requests carry no cookie and need none. A cross-site
``Origin`` is refused on every state-changing request, which also stops login CSRF (signing
a victim into the attacker's account), where no session exists yet.

Failed sign-ins answer the same page, status and body whether the name is unknown, the
password wrong or the account disabled; the audit log records an HMAC prefix of the
attempted name (the throttle key), never the name itself, since users type passwords into the
name field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from amparo.errors import Conflict, NotFound, ValidationError
from amparo.security import throttle
from amparo.services.accounts import (
    AUTHENTICATED,
    NEEDS_ENROLMENT,
    THROTTLED,
    TOKEN_SCOPES,
    TokenPrincipal,
    normalise_username,
)
from amparo.services.principals import GrantsCache, actor_for_user
from amparo.store import schema
from amparo.web import i18n
from amparo.web.i18n import N_
from amparo.web.sessions import SessionInfo, SessionStore

if TYPE_CHECKING:
    from jinja2 import Environment

    from amparo.registry import Registry

__all__ = [
    "COOKIE_PLAIN",
    "COOKIE_SECURE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PARTIAL_PATHS",
    "PUBLIC_PATHS",
    "SAFE_METHODS",
    "CsrfRejected",
    "CurrentUser",
    "NotSignedIn",
    "RequestContext",
    "ScopeRefused",
    "WebAuth",
    "current_user",
    "router",
]

COOKIE_SECURE = "__Host-amparo"  # browsers accept __Host- only with Secure, Path=/, no Domain
COOKIE_PLAIN = "amparo"  # plain-HTTP loopback (amparo demo / serve on 127.0.0.1) only
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Everything else needs a full sign-in (the stylesheet and script under /static are public).
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/language"})
PARTIAL_PATHS = frozenset({"/enrol", "/verify", "/logout"})  # reachable after the password
MAX_FORM_BYTES = 16 * 1024  # a sign-in form is a few hundred bytes
ANONYMOUS = "anonymous"
# Shown instead of the library's "try again in N s" (the wait is in the Retry-After header).
TOO_MANY_ATTEMPTS = N_("Too many attempts. Wait a little, then try again.")


class NotSignedIn(Exception):
    """No full session or valid token: HTML goes to /login, the API answers 401."""


class CsrfRejected(Exception):
    """A cookie-authenticated state change without the session's CSRF token (403)."""


class ScopeRefused(Exception):
    """A bearer token whose scope does not cover this request (403)."""


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, with a registry view whose services check that user's permissions."""

    user_id: str
    username: str
    role: str
    registry: Registry
    csrf: str  # the token for forms; empty for bearer requests
    session: SessionInfo | None = None
    token: TokenPrincipal | None = None

    def has_scope(self, scope: str) -> bool:
        """Sessions hold every scope; tokens: read < write < export < admin."""
        if self.token is None:
            return True
        return TOKEN_SCOPES.index(self.token.scope) >= TOKEN_SCOPES.index(scope)


class WebAuth:
    """Per-app sign-in state: the registry, its sessions, cookie settings and templates."""

    def __init__(
        self, registry: Registry, sessions: SessionStore, *, secure_cookies: bool,
        templates: Callable[[str], Environment],
    ) -> None:  # fmt: skip
        self.registry = registry
        self.sessions = sessions
        self.secure_cookies = secure_cookies
        self.templates = templates
        self.grants = GrantsCache()

    @property
    def cookie_name(self) -> str:
        return COOKIE_SECURE if self.secure_cookies else COOKIE_PLAIN

    def set_cookie(self, response: Response, secret: str) -> None:
        # No Max-Age: the cookie ends with the browser; the server enforces both timeouts.
        response.set_cookie(
            self.cookie_name, secret, path="/", secure=self.secure_cookies, httponly=True,
            samesite="strict",
        )  # fmt: skip

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie_name, path="/", secure=self.secure_cookies, httponly=True,
            samesite="strict",
        )  # fmt: skip

    def secret(self, request: Request) -> str | None:
        return request.cookies.get(self.cookie_name)

    async def session(self, request: Request) -> SessionInfo | None:
        """The live session of this request (partial or full), CSRF-checked when it changes
        state; loaded once per request."""
        if hasattr(request.state, "amparo_session"):
            cached: SessionInfo | None = request.state.amparo_session
            return cached
        info = self.sessions.load(self.secret(request))
        if info is not None and request.method not in SAFE_METHODS:
            token = request.headers.get(CSRF_HEADER)
            if token is None:
                token = await _posted_csrf_token(request)
            if not self.sessions.check_csrf(info, token):
                raise CsrfRejected
        request.state.amparo_session = info
        return info

    def language(self, request: Request) -> str:
        """The page language: the user's choice, else the cookie, the browser, the default."""
        chosen: str | None = getattr(request.state, "amparo_language", None)
        if chosen is None:
            chosen = i18n.negotiate(
                user_choice=None, cookie=request.cookies.get(i18n.COOKIE),
                accept_language=request.headers.get("accept-language"),
                default=self.registry.settings.language,
            )  # fmt: skip
            request.state.amparo_language = chosen
        return chosen

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        context.setdefault("demo", self.registry.is_demo)
        context.setdefault("user", None)
        context.setdefault("csrf", "")
        context.setdefault("path", request.url.path)
        context.setdefault("nav_admin", False)
        context.setdefault("nav_intake", False)
        context.setdefault("nav_analytics", False)
        html = self.templates(self.language(request)).get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)

    def audit(
        self, action: str, actor: str, *, user_id: str | None = None, detail: str = ""
    ) -> None:
        with self.registry.store.write() as conn:
            self.registry.audit.record(
                conn, action, object_type=None if user_id is None else "user",
                object_id=user_id, detail=detail, actor=actor,
            )  # fmt: skip

    def attempt_key(self, username: str) -> str:
        """A short keyed fingerprint of an attempted name, for the audit log."""
        key = self.registry.keyring.subkey("throttle")
        return throttle.user_key(key, normalise_username(username))[:12]


def get_auth(request: Request) -> WebAuth:
    auth: WebAuth = request.app.state.auth
    return auth


async def form(request: Request) -> dict[str, str]:
    """The URL-encoded form fields of a request (first value of each), parsed once."""
    if hasattr(request.state, "amparo_form"):
        cached: dict[str, str] = request.state.amparo_form
        return cached
    fields: dict[str, str] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
            raise ValidationError("form", "is too large")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise ValidationError("form", "is too large")
        parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=20)  # fmt: skip
        fields = {key: values[0] for key, values in parsed.items() if values}
    request.state.amparo_form = fields
    return fields


async def _posted_csrf_token(request: Request) -> str | None:
    """The ``csrf`` field of a posted form, whatever its size (the body-limit middleware
    bounds it). Multipart forms are read only on pages: API uploads with a session cookie
    send the ``X-CSRF-Token`` header, and their bodies stream to the handler unread."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        body = await request.body()
        for key, value in parse_qsl(body.decode("utf-8", errors="replace"),
                                    keep_blank_values=True):  # fmt: skip
            if key == CSRF_FIELD:
                return value
        return None
    if content_type == "multipart/form-data" and not request.url.path.startswith("/api/"):
        field = (await request.form(max_fields=2000, max_files=20)).get(CSRF_FIELD)
        return field if isinstance(field, str) else None
    return None


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _view(
    auth: WebAuth, user_id: str, username: str, *, reauthenticated_at: Any = None,
    standing_reauth: frozenset[str] = frozenset(),
) -> Any:  # fmt: skip
    with auth.registry.store.read() as conn:
        try:
            actor = actor_for_user(
                conn,
                user_id,
                mfa_complete=True,
                reauthenticated_at=reauthenticated_at,
                cache=auth.grants,
            )
        except NotFound:
            raise NotSignedIn from None
    if standing_reauth:
        actor = replace(actor, standing_reauth=standing_reauth)
    return auth.registry.acting_as(actor, f"user:{username}")


async def current_user(request: Request) -> RequestContext:
    """The signed-in user (second factor complete) or a valid bearer token; else NotSignedIn."""
    auth = get_auth(request)
    header = request.headers.get("authorization")
    if header is not None and request.url.path.startswith("/api/"):
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise NotSignedIn
        principal = auth.registry.accounts.authenticate_token(value.strip())
        if principal is None:
            raise NotSignedIn
        if request.method not in SAFE_METHODS and principal.scope == "read":
            raise ScopeRefused
        # Tokens never re-authenticate; one made for exports stands in for it there only.
        standing = (
            frozenset({"export"})
            if TOKEN_SCOPES.index(principal.scope) >= TOKEN_SCOPES.index("export")
            else frozenset()
        )
        view = _view(auth, principal.user_id, principal.username, standing_reauth=standing)
        return RequestContext(
            user_id=principal.user_id, username=principal.username, role=principal.role,
            registry=view, csrf="", token=principal,
        )  # fmt: skip
    session = await auth.session(request)
    if session is None or not session.mfa_complete:
        raise NotSignedIn
    if session.language in i18n.LANGUAGES:
        request.state.amparo_language = session.language
    view = _view(
        auth, session.user_id, session.username, reauthenticated_at=session.reauthenticated_at
    )
    return RequestContext(
        user_id=session.user_id, username=session.username, role=session.role, registry=view,
        csrf=auth.sessions.csrf_token(session), session=session,
    )  # fmt: skip


async def partial_session(request: Request) -> SessionInfo:
    """A session whose password step is done (second factor pending or not)."""
    session = await get_auth(request).session(request)
    if session is None:
        raise NotSignedIn
    return session


CurrentUser = Annotated[RequestContext, Depends(current_user)]
PartialSession = Annotated[SessionInfo, Depends(partial_session)]


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a local path: never another site (open redirect) or a scheme-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _pending_totp_secret(auth: WebAuth, user_id: str) -> str | None:
    """The secret of an enrolment begun but not confirmed, to show the same QR code again."""
    with auth.registry.store.read() as conn:
        sealed = conn.execute(
            sa.select(schema.users.c.totp_secret_ct).where(schema.users.c.id == user_id)
        ).scalar()
    # AccountService has no public getter for a pending secret; its own helper opens it.
    return auth.registry.accounts._open(user_id, "totp_secret", sealed)


router = APIRouter(include_in_schema=False)


# -- step 1: the password ------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    auth = get_auth(request)
    session = await auth.session(request)
    if session is not None and session.mfa_complete:
        return _redirect("/")
    return auth.render(request, "login.html")


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    auth = get_auth(request)
    await auth.session(request)  # a live session must prove its CSRF token even here
    fields = await form(request)
    username = fields.get("username", "")[:200]
    password = fields.get("password", "")[:1000]
    step = auth.registry.accounts.authenticate(username, password, _address(request))
    if not step.ok or step.user_id is None:
        reason = "throttled" if step.status == THROTTLED else "failed"
        auth.audit("auth.login_failed", ANONYMOUS,
                   detail=f"attempt={auth.attempt_key(username)} reason={reason}")  # fmt: skip
        if step.status == THROTTLED:
            busy = auth.render(request, "login.html", 429, error=TOO_MANY_ATTEMPTS)
            busy.headers["Retry-After"] = str(step.retry_after_s or 1)
            return busy
        return auth.render(request, "login.html", 400, error=step.message)
    secret = auth.sessions.create(
        step.user_id, False, user_epoch=step.session_epoch, replaces=auth.secret(request)
    )
    response = _redirect("/enrol" if step.status == NEEDS_ENROLMENT else "/verify")
    auth.set_cookie(response, secret)
    return response


# -- step 2a: first login, enrol an authenticator ------------------------------------------
def _enrol_page(
    request: Request, auth: WebAuth, session: SessionInfo, status_code: int = 200,
    error: str | None = None,
) -> Response:  # fmt: skip
    secret = _pending_totp_secret(auth, session.user_id)
    if secret is None:
        secret, _, _ = auth.registry.accounts.begin_totp_enrolment(session.user_id)
    from amparo.security import totp

    uri = totp.provisioning_uri(secret, session.username)
    return auth.render(
        request, "enrol.html", status_code, qr=Markup(totp.qr_svg(uri)),  # noqa: S704 (segno's own SVG)
        secret=secret, error=error, csrf=auth.sessions.csrf_token(session),
    )  # fmt: skip


@router.get("/enrol", response_class=HTMLResponse)
def enrol_page(request: Request, session: PartialSession) -> Response:
    auth = get_auth(request)
    if session.mfa_complete:
        return _redirect("/")
    if session.mfa_enrolled:
        return _redirect("/verify")
    return _enrol_page(request, auth, session)


@router.post("/enrol", response_class=HTMLResponse)
async def enrol_submit(request: Request, session: PartialSession) -> Response:
    auth = get_auth(request)
    if session.mfa_complete:
        return _redirect("/")
    if session.mfa_enrolled:
        return _redirect("/verify")
    code = (await form(request)).get("code", "")[:100]
    actor = f"user:{session.username}"
    try:
        codes = auth.registry.accounts.confirm_totp_enrolment(session.user_id, code)
    except ValidationError:
        auth.audit("auth.second_factor_failed", actor, user_id=session.user_id,
                   detail="during=enrolment")  # fmt: skip
        return _enrol_page(request, auth, session, 400, error=N_(
            "That code does not match. Check the time on your phone and enter the code shown "
            "now."))  # fmt: skip
    except Conflict:
        return _redirect("/verify")
    auth.audit("auth.enrol", actor, user_id=session.user_id, detail="factor=totp")
    secret = auth.sessions.create(session.user_id, True, replaces=auth.secret(request))
    auth.audit("auth.login", actor, user_id=session.user_id, detail="factor=enrolment")
    new = auth.sessions.load(secret)
    assert new is not None
    response = auth.render(
        request, "recovery_codes.html", codes=codes, user=session.username,
        csrf=auth.sessions.csrf_token(new),
    )  # fmt: skip
    auth.set_cookie(response, secret)
    return response


# -- step 2b: the second factor ------------------------------------------------------------
@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, session: PartialSession) -> Response:
    auth = get_auth(request)
    if session.mfa_complete:
        return _redirect("/")
    if not session.mfa_enrolled:
        return _redirect("/enrol")
    return auth.render(request, "verify.html", csrf=auth.sessions.csrf_token(session))


@router.post("/verify", response_class=HTMLResponse)
async def verify_submit(request: Request, session: PartialSession) -> Response:
    auth = get_auth(request)
    if session.mfa_complete:
        return _redirect("/")
    if not session.mfa_enrolled:
        return _redirect("/enrol")
    code = (await form(request)).get("code", "")[:100]
    step = auth.registry.accounts.verify_second_factor(session.user_id, code, _address(request))
    actor = f"user:{session.username}"
    csrf = auth.sessions.csrf_token(session)
    if step.status == THROTTLED:
        busy = auth.render(request, "verify.html", 429, error=TOO_MANY_ATTEMPTS, csrf=csrf)
        busy.headers["Retry-After"] = str(step.retry_after_s or 1)
        return busy
    if step.status != AUTHENTICATED:
        auth.audit("auth.second_factor_failed", actor, user_id=session.user_id,
                   detail="during=login")  # fmt: skip
        return auth.render(request, "verify.html", 400, error=step.message, csrf=csrf)
    secret = auth.sessions.create(
        session.user_id, True, user_epoch=step.session_epoch, replaces=auth.secret(request)
    )
    method = "totp" if "".join(code.split()).isdigit() else "recovery_code"
    auth.audit("auth.login", actor, user_id=session.user_id, detail=f"factor={method}")
    response = _redirect("/")
    auth.set_cookie(response, secret)
    return response


# -- the interface language -----------------------------------------------------------------
@router.post("/language")
async def choose_language(request: Request) -> Response:
    """Kept with the account when signed in, and in a cookie (also before signing in); a
    cross-site post is refused earlier, a session must prove its CSRF token."""
    auth = get_auth(request)
    fields = await form(request)
    language = fields.get("language", "")
    response = _redirect(_safe_next(fields.get("next")))
    session = await auth.session(request)
    if language in i18n.LANGUAGES and session is not None and session.mfa_complete:
        with auth.registry.store.read() as conn:  # the account's own choice, kept with it
            actor = actor_for_user(conn, session.user_id, mfa_complete=True, cache=auth.grants)
        auth.registry.acting_as(actor, f"user:{session.username}").accounts.set_language(
            session.user_id, language
        )
    if language in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, language, max_age=365 * 24 * 3600, path="/",
            secure=auth.secure_cookies, httponly=True, samesite="strict",
        )  # fmt: skip
    return response


# -- signing out ---------------------------------------------------------------------------
@router.post("/logout")
async def logout(request: Request) -> Response:
    auth = get_auth(request)
    session = await auth.session(request)
    secret = auth.secret(request)
    if session is not None and secret is not None:
        auth.sessions.destroy(secret)
        auth.audit("auth.logout", f"user:{session.username}", user_id=session.user_id)
    response = _redirect("/login")
    auth.clear_cookie(response)
    return response


# -- re-authentication before dangerous operations -----------------------------------------
@router.get("/reauth", response_class=HTMLResponse)
def reauth_page(request: Request, ctx: CurrentUser, next: str = "/") -> Response:
    return get_auth(request).render(
        request, "reauth.html", user=ctx.username, csrf=ctx.csrf, next=_safe_next(next)
    )


@router.post("/reauth", response_class=HTMLResponse)
async def reauth_submit(request: Request, ctx: CurrentUser) -> Response:
    auth = get_auth(request)
    fields = await form(request)
    target = _safe_next(fields.get("next"))
    address = _address(request)
    actor = f"user:{ctx.username}"
    accounts = auth.registry.accounts
    step = accounts.authenticate(ctx.username, fields.get("password", "")[:1000], address)
    if step.ok and step.user_id == ctx.user_id:
        step = accounts.verify_second_factor(ctx.user_id, fields.get("code", "")[:100], address)
        failure = "auth.second_factor_failed"
    else:
        failure = "auth.login_failed"
    if step.status != AUTHENTICATED:
        auth.audit(failure, actor, user_id=ctx.user_id, detail="during=reauth")
        status = 429 if step.status == THROTTLED else 400
        error = TOO_MANY_ATTEMPTS if step.status == THROTTLED else step.message
        return auth.render(request, "reauth.html", status, user=ctx.username, csrf=ctx.csrf,
                           next=target, error=error)  # fmt: skip
    secret = auth.secret(request)
    assert secret is not None  # current_user accepted this request's session
    new_secret = auth.sessions.mark_reauthenticated(secret)
    auth.audit("auth.reauth", actor, user_id=ctx.user_id)
    response = _redirect(target)
    auth.set_cookie(response, new_secret)
    return response
