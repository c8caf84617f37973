"""The JSON API under ``/api/v1``: one router per concept, all behind sign-in.

Every operation: needs a full session or a bearer token (amparo.web.auth.current_user);
decides access only through the registry view's ``allowed()``; answers errors as RFC 9457
problem details (amparo.web.problems).
"""

from __future__ import annotations

import importlib
import re
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
MODULES = ("overview", "records", "vocabularies", "evidence", "intake")


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
    _add_links(document)
    if app is not None:
        app.openapi_schema = document
    return document


def _add_links(document: dict[str, Any]) -> None:
    """OpenAPI links from each create operation (``POST /x`` answering 201 with the new record)
    to the operations on that record (``/x/{x_id}...``, the ``id`` of the body) and, where the
    record names its case, to the case (``case_id``). Clients and test tools (Schemathesis's
    stateful tests) follow them."""
    paths: dict[str, dict[str, Any]] = document["paths"]
    case_path = f"{PREFIX}/cases/{{case_id}}"
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        body = created.get("content", {}).get("application/json", {}).get("schema", {})
        ref = str(body.get("$ref", ""))
        fields = document["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        links: dict[str, Any] = {}
        for target, target_ops in paths.items():
            head, sep, rest = target.partition(path + "/{")
            if head or not sep:
                continue
            name = rest.split("}", 1)[0]
            for method, op in target_ops.items():
                links[_link_name(target, method, op)] = {
                    "operationId": op["operationId"],
                    "parameters": {name: "$response.body#/id"},
                    "description": f"`{name}` is the `id` of the new record",
                }
        if "case_id" in fields.get("properties", {}) and case_path in paths:
            op = paths[case_path]["get"]
            links[_link_name(case_path, "get", op)] = {
                "operationId": op["operationId"],
                "parameters": {"case_id": "$response.body#/case_id"},
                "description": "The case the new record was filed in",
            }
        if links:
            created["links"] = links


def _link_name(path: str, method: str, operation: dict[str, Any]) -> str:
    """The route's function name (``get_incident``): FastAPI's operationId less the path and
    method it appends."""
    operation_id = str(operation["operationId"])
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return operation_id.removesuffix(suffix) or operation_id
