"""Server-rendered pages for staff: thin adapters over the same services as the API.

Every page needs a full sign-in (``current_user``) and works without JavaScript; forms post
back to the same path, with the session's CSRF token. Text comes from gettext catalogs
(amparo.web.i18n); vocabulary labels follow the page language.
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from amparo.errors import ValidationError
from amparo.security.permissions import Resource
from amparo.web.auth import RequestContext, current_user, get_auth

__all__ = [
    "MAX_PAGE_FORM_BYTES",
    "MODULES",
    "NAV_PATHS",
    "page_router",
    "read_form",
    "render",
    "vocab_labeller",
    "vocab_options",
]

MODULES = ("dashboard", "incidents", "defenders", "cases", "risk", "checkins", "triage", "admin",
           "intake", "analytics", "reports")  # fmt: skip
# The main menu: the sections that exist (Admin only for those who may open it).
NAV_PATHS = frozenset(
    {"/", "/incidents", "/defenders", "/cases", "/triage", "/intake", "/analytics", "/admin"}
)
MAX_PAGE_FORM_BYTES = 512 * 1024  # a long narrative and dozens of acts fit easily


def page_router() -> APIRouter:
    """All staff pages; none is part of the API schema."""
    router = APIRouter(dependencies=[Depends(current_user)], include_in_schema=False)
    for name in MODULES:
        module = importlib.import_module(f"amparo.web.pages.{name}")
        router.include_router(module.router())
    return router


def render(
    request: Request, ctx: RequestContext, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    auth = get_auth(request)
    context.setdefault("nav_admin", ctx.registry.allowed("read_audit", Resource("audit")))
    context.setdefault("nav_intake", ctx.registry.allowed("review_intake", Resource("intake")))
    context.setdefault("nav_analytics", any(ctx.registry.allowed(action, Resource("registry"))
                                            for action in ("read", "read_aggregates")))  # fmt: skip
    return auth.render(request, template, status_code, user=ctx.username, csrf=ctx.csrf, **context)


async def read_form(request: Request, max_fields: int = 2000) -> FormData:
    """The posted form (several values per name kept), size-limited."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_PAGE_FORM_BYTES:
        raise ValidationError("form", "is too large")
    return await request.form(max_files=0, max_fields=max_fields)


def vocab_options(ctx: RequestContext, lang: str, name: str) -> list[tuple[str, str]]:
    """(code, label in the page language) of a vocabulary, in its own order."""
    return [(term.code, term.label(lang)) for term in ctx.registry.vocab[name]]


def vocab_labeller(ctx: RequestContext, lang: str) -> Any:
    """``label(vocabulary, code)`` for templates: the label in ``lang``, the code itself if
    the vocabulary no longer knows it, "" for no code."""
    vocab = ctx.registry.vocab

    def label(name: str, code: str | None) -> str:
        if not code:
            return ""
        try:
            return str(vocab[name].label(code, lang))
        except KeyError:
            return code

    return label
