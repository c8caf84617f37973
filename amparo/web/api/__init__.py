"""The JSON API under ``/api/v1``: one router per concept, all behind sign-in.

Every operation: needs a full session or a bearer token (amparo.web.auth.current_user);
decides access only through the registry view's ``allowed()``; answers errors as RFC 9457
problem details (amparo.web.problems).
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from amparo import __version__
from amparo.web.auth import current_user
from amparo.web.problems import PROBLEM_RESPONSES

__all__ = ["PREFIX", "api_router", "openapi_document", "protected_router"]

PREFIX = "/api/v1"


def protected_router(tag: str) -> APIRouter:
    """A router for one concept: signed-in only, problem responses documented."""
    return APIRouter(
        prefix=PREFIX, tags=[tag], dependencies=[Depends(current_user)],
        responses=PROBLEM_RESPONSES,
    )  # fmt: skip


# Each module here defines ``router() -> APIRouter``; loaded when an app is built.
MODULES = ("overview", "records", "vocabularies")


def api_router() -> APIRouter:
    router = APIRouter()
    for name in MODULES:
        module = importlib.import_module(f"amparo.web.api.{name}")
        router.include_router(module.router())
    return router


def openapi_document(app: FastAPI | None = None) -> dict[str, Any]:
    """The OpenAPI schema of the API: the same for every installation (it needs no vault),
    so docs/api.md is generated from it without one."""
    if app is not None and app.openapi_schema is not None:
        return app.openapi_schema
    routes = app.routes if app is not None else api_router().routes
    document = get_openapi(
        title="Amparo API", version=__version__, routes=routes,
        description="The registry of threats and attacks against human rights defenders, "
        "over JSON. Every operation needs a signed-in session or a bearer token; errors are "
        "RFC 9457 problem details.",
    )  # fmt: skip
    document["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "amparo tokens create"},
        "session": {"type": "apiKey", "in": "cookie", "name": "__Host-amparo"},
    }
    document["security"] = [{"bearer": []}, {"session": []}]
    if app is not None:
        app.openapi_schema = document
    return document
