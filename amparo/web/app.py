"""The web application, built per registry (nothing at import time).

Until accounts and sign-in land, the server exposes only what is safe without them: health,
status and small-count-suppressed aggregates. No identity or narrative leaves the vault here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

from amparo import __version__
from amparo.store import schema

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


def create_app(registry: Registry) -> FastAPI:
    app = FastAPI(
        title="Amparo",
        version=__version__,
        docs_url=None,  # the docs page pulls assets from a CDN; the schema stays available
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    env = Environment(
        loader=None,
        autoescape=select_autoescape(default=True),
    )
    template = env.from_string(
        files("amparo.web").joinpath("templates/home.html").read_text("utf-8")
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def stats() -> dict[str, Any]:
        with registry.store.read() as conn:
            year: sa.ColumnElement[Any] = sa.func.extract("year", schema.incidents.c.date_start)
            if registry.store.dialect == "sqlite":
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

    @app.get("/api/v1/status")
    def status() -> dict[str, Any]:
        return {
            "name": "Amparo",
            "version": __version__,
            "demo": registry.is_demo,
            "database": registry.store.dialect,
            "incidents": registry.incidents.count(),
            "defenders": registry.defenders.count(),
        }

    @app.get("/api/v1/stats")
    def statistics() -> dict[str, Any]:
        return stats()

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        data = stats()
        labels = registry.vocab["act_types"]
        acts = [
            (code, labels.label(code, registry.settings.language), n)
            for code, n in data["acts_by_type"].items()
        ]
        html = template.render(
            demo=registry.is_demo,
            version=__version__,
            incidents=registry.incidents.count(),
            defenders=registry.defenders.count(),
            countries=data["countries"],
            years=data["incidents_by_year"],
            acts=acts,
            lang=registry.settings.language,
        )
        return HTMLResponse(html)

    return app
