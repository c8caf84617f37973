"""The web application, built per registry (nothing at import time).

Public without signing in: ``/login``, ``/healthz``, the defender's check-in page
(``/c/<token>``, ``/checkin``: amparo.web.public_checkin), the report form (``/report`` by
default: amparo.web.public_intake) and the intake API (``/api/v1/intake``). Everything else,
the OpenAPI schema included, needs a session whose second factor is complete (or, under
``/api/``, a bearer token): see amparo.web.auth. No identity or narrative leaves the vault
here yet: the pages show aggregates with small counts suppressed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse
from jinja2 import Environment
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from amparo import __version__
from amparo.errors import AmparoError, ValidationError
from amparo.web import i18n
from amparo.web.api import api_router, openapi_document
from amparo.web.auth import (
    SAFE_METHODS,
    CsrfRejected,
    NotSignedIn,
    ScopeRefused,
    WebAuth,
    current_user,
)
from amparo.web.auth import router as auth_router
from amparo.web.limits import ROUTE_LIMITS, BodyLimits, BodyPolicy, BodyRejected, body_rejected
from amparo.web.pages import NAV_PATHS, page_router
from amparo.web.problems import (
    PROBLEM_TYPES,
    from_amparo_error,
    from_request_validation,
    problem,
)
from amparo.web.public_checkin import router as checkin_router
from amparo.web.sessions import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, SessionStore

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["SECURITY_HEADERS", "create_app"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" with
    # every form post, which the cross-site check must refuse; nothing leaves for other sites.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",  # no other site may embed our responses
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _cross_site(request: Request) -> bool:
    """A state change sent by another site's page (browsers say so in these headers).

    Browsers that send ``Sec-Fetch-Site`` are judged by it alone: ``same-origin`` or ``none``
    (typed by the user) pass, ``same-site`` and ``cross-site`` do not. Older ones are judged
    by ``Origin``, which must name this host; ``null`` (a sandboxed or opaque origin) fails.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != (
        request.headers.get("host", "").lower()
    )


def create_app(
    registry: Registry,
    *,
    idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    absolute_timeout: timedelta = DEFAULT_ABSOLUTE_TIMEOUT,
    secure_cookies: bool = True,
) -> FastAPI:
    """The app for one unlocked registry.

    ``secure_cookies=False`` names the cookie ``amparo`` without the Secure flag, for plain
    HTTP on the loopback interface only (``amparo demo``/``serve`` on 127.0.0.1); anywhere
    else Amparo must be served over HTTPS with the default.
    """
    app = FastAPI(
        title="Amparo",
        version=__version__,
        docs_url=None,  # the docs page pulls assets from a CDN
        redoc_url=None,
        openapi_url=None,  # served below, behind sign-in
    )

    @functools.cache
    def environments(lang: str) -> Environment:  # built on first use, per language
        return i18n.environment(lang, {"nav_paths": NAV_PATHS})

    sessions = SessionStore(registry, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
    auth = WebAuth(registry, sessions, secure_cookies=secure_cookies, templates=environments)
    app.state.auth = auth
    app.state.sessions = sessions
    # Added before security_headers, so it runs inside it and its refusals get the headers.
    limits = dict(ROUTE_LIMITS)
    if registry.settings.intake_form:  # the public report form takes files: its own limit
        from amparo.web.public_intake import FORM_LIMIT

        limits[registry.settings.intake_form] = FORM_LIMIT
    app.add_middleware(BodyLimits, policy=BodyPolicy(route_limits=limits))
    app.add_exception_handler(BodyRejected, body_rejected)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method not in SAFE_METHODS and _cross_site(request):
            response: Response = refuse(request, "cross-site request refused")
        else:
            response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return problem("unauthenticated", "sign in or send an API token",
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return RedirectResponse("/login", status_code=303)

    def refuse(request: Request, message: str, slug: str = "forbidden") -> Response:
        if _is_api(request):
            return problem(slug, message)
        return PlainTextResponse(message, PROBLEM_TYPES[slug][0])

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        await request.close()  # a multipart form read for its token: its spooled files too
        return refuse(request, "missing or invalid CSRF token")

    @app.exception_handler(ScopeRefused)
    async def scope_refused(request: Request, exc: ScopeRefused) -> Response:
        return refuse(request, "this token's scope does not allow this request")

    @app.exception_handler(AmparoError)
    async def amparo_error(request: Request, exc: AmparoError) -> Response:
        if _is_api(request):
            return from_amparo_error(exc)
        if isinstance(exc, ValidationError):
            return PlainTextResponse(str(exc), 400)
        return PlainTextResponse(str(exc), from_amparo_error(exc).status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return from_request_validation(exc)
        return PlainTextResponse("invalid request", 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            slug = next(
                (k for k, (code, _) in PROBLEM_TYPES.items() if code == exc.status_code),
                "bad-request",
            )
            return problem(slug, str(exc.detail), status=exc.status_code,
                           headers=exc.headers)  # fmt: skip
        return PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.mount("/static", StaticFiles(packages=[("amparo.web", "static")]), name="static")
    app.include_router(auth_router)
    app.include_router(checkin_router())  # the defender's own check-in: no account
    if registry.settings.intake_form:  # the public report form: no account
        from amparo.web.public_intake import router as intake_form_router

        app.include_router(intake_form_router(registry.settings.intake_form))
    app.include_router(api_router())
    app.include_router(page_router())

    # Everything on this router needs a full sign-in; new pages belong here too.
    protected = APIRouter(dependencies=[Depends(current_user)])

    @protected.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]

    app.include_router(protected)
    return app
