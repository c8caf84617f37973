"""The web application, built per registry (nothing at import time).

Public without signing in: ``/login`` and ``/healthz``. Everything else, the OpenAPI schema
included, needs a session whose second factor is complete (or, under ``/api/``, a bearer
token): see amparo.web.auth. No identity or narrative leaves the vault here yet: the pages
show aggregates with small counts suppressed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from amparo import __version__
from amparo.errors import Forbidden, ValidationError
from amparo.security.permissions import Resource
from amparo.store import schema
from amparo.web.auth import (
    SAFE_METHODS,
    CsrfRejected,
    CurrentUser,
    NotSignedIn,
    ScopeRefused,
    WebAuth,
    current_user,
)
from amparo.web.auth import router as auth_router
from amparo.web.sessions import DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, SessionStore

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["SECURITY_HEADERS", "SMALL_COUNT", "create_app"]

SMALL_COUNT = 5  # counts below this are shown as "<5": small groups can point at a person
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _suppress(count: int) -> int | str:
    return count if count >= SMALL_COUNT else f"<{SMALL_COUNT}"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _cross_site(request: Request) -> bool:
    """A state change sent by another site's page (browsers say so in these headers)."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
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
    env = Environment(
        loader=PackageLoader("amparo.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    sessions = SessionStore(registry, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
    auth = WebAuth(registry, sessions, secure_cookies=secure_cookies, templates=env)
    app.state.auth = auth
    app.state.sessions = sessions

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method not in SAFE_METHODS and _cross_site(request):
            response: Response = PlainTextResponse("cross-site request refused", 403)
        else:
            response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign-in required"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return RedirectResponse("/login", status_code=303)

    def refuse(request: Request, message: str, status: int = 403) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status)
        return PlainTextResponse(message, status)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return refuse(request, "missing or invalid CSRF token")

    @app.exception_handler(ScopeRefused)
    async def scope_refused(request: Request, exc: ScopeRefused) -> Response:
        return refuse(request, "this token's scope does not allow this request")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return refuse(request, str(exc))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> Response:
        return refuse(request, str(exc), 400)

    def stats(reg: Registry) -> dict[str, Any]:
        reg.require("read_aggregates", Resource("registry"))
        with reg.store.read() as conn:
            year: sa.ColumnElement[Any] = sa.func.extract("year", schema.incidents.c.date_start)
            if reg.store.dialect == "sqlite":
                year = sa.func.strftime("%Y", schema.incidents.c.date_start)
            by_year = conn.execute(
                sa.select(year.label("y"), sa.func.count()).group_by("y").order_by("y")
            ).all()
            by_act = conn.execute(
                sa.select(schema.acts.c.act_type, sa.func.count())
                .group_by(schema.acts.c.act_type)
                .order_by(schema.acts.c.act_type)
            ).all()
            countries = conn.execute(
                sa.select(sa.func.count(sa.distinct(schema.incidents.c.country)))
            ).scalar_one()
        return {
            "incidents_by_year": {str(int(y)): _suppress(n) for y, n in by_year},
            "acts_by_type": {code: _suppress(n) for code, n in by_act},
            "countries": countries,
            "small_counts_below": SMALL_COUNT,
        }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(auth_router)

    # Everything on this router needs a full sign-in; new pages belong here too.
    protected = APIRouter(dependencies=[Depends(current_user)])

    @protected.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @protected.get("/api/v1/status")
    def status(ctx: CurrentUser) -> dict[str, Any]:
        reg = ctx.registry
        return {
            "name": "Amparo",
            "version": __version__,
            "demo": reg.is_demo,
            "database": reg.store.dialect,
            "incidents": reg.incidents.count(),
            "defenders": reg.defenders.count(),
        }

    @protected.get("/api/v1/stats")
    def statistics(ctx: CurrentUser) -> dict[str, Any]:
        return stats(ctx.registry)

    @protected.get("/", response_class=HTMLResponse)
    def home(ctx: CurrentUser) -> HTMLResponse:
        reg = ctx.registry
        page: dict[str, Any] = {"aggregates": reg.allowed("read_aggregates", Resource("registry"))}
        if page["aggregates"]:
            data = stats(reg)
            labels = reg.vocab["act_types"]
            page.update(
                incidents=reg.incidents.count(),
                defenders=reg.defenders.count(),
                countries=data["countries"],
                years=data["incidents_by_year"],
                acts=[
                    (code, labels.label(code, reg.settings.language), n)
                    for code, n in data["acts_by_type"].items()
                ],
            )
        return auth.render(
            "home.html", version=__version__, user=ctx.username, csrf=ctx.csrf, **page
        )

    app.include_router(protected)
    return app
