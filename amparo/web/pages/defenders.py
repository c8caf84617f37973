"""Defender pages: the list, the profile with her incidents on a timeline, merging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.errors import AmparoError, ValidationError
from amparo.services.defenders import DefenderFilter
from amparo.services.incidents import IncidentFilter
from amparo.web.api.listing import decode_cursor, encode_cursor
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render, vocab_labeller, vocab_options

__all__ = ["router"]

PAGE_SIZE = 50
RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Text = Annotated[str | None, Query(max_length=500)]


def router() -> APIRouter:
    pages = APIRouter()

    @pages.get("/defenders", response_class=HTMLResponse)
    def defender_list(
        request: Request, ctx: CurrentUser, q: Text = None, country: Text = None,
        sector: Text = None, gender_identity: Text = None,
        cursor: Annotated[str | None, Query(max_length=400)] = None,
    ) -> Response:  # fmt: skip
        lang = get_auth(request).language(request)
        error = None
        items: list[Any] = []
        next_cursor = None
        try:
            items = ctx.registry.defenders.list(DefenderFilter(
                country=country or None, sector=sector or None,
                gender_identity=gender_identity or None,
                text=q.strip() if q and q.strip() else None, limit=PAGE_SIZE + 1,
                after=decode_cursor(cursor, "created"),
            ))  # fmt: skip
            if len(items) > PAGE_SIZE:
                items = items[:PAGE_SIZE]
                next_cursor = encode_cursor("created", items[-1].sort_value, items[-1].id)
        except ValidationError as exc:
            error = str(exc)
        params = {k: v for k, v in {"q": q, "country": country, "sector": sector,
                                    "gender_identity": gender_identity}.items() if v}  # fmt: skip
        return render(
            request, ctx, "defenders/list.html", 400 if error else 200, items=items, q=q or "",
            chosen=params, next_cursor=next_cursor, params=params, error=error,
            countries=vocab_options(ctx, lang, "countries"),
            sectors=vocab_options(ctx, lang, "sectors"),
            genders=vocab_options(ctx, lang, "gender_identities"), label=vocab_labeller(ctx, lang),
        )  # fmt: skip

    def profile(
        request: Request, ctx: CurrentUser, defender_id: str, *, notice: str | None = None,
        error: str | None = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        lang = get_auth(request).language(request)
        defender = ctx.registry.defenders.get(defender_id)
        incidents = ctx.registry.incidents.list(
            IncidentFilter(defender_id=defender_id, sort="date", limit=500)
        )
        history = ctx.registry.defenders.history(defender_id)
        flags = ctx.registry.risk_flags.for_defender(defender_id)
        return render(
            request, ctx, "defenders/profile.html", status_code, defender=defender,
            incidents=incidents, history=history, label=vocab_labeller(ctx, lang), notice=notice,
            error=error, flags=flags,
        )  # fmt: skip

    @pages.get("/defenders/{defender_id}", response_class=HTMLResponse)
    def show(
        request: Request, ctx: CurrentUser, defender_id: RecordId,
        merged: Annotated[int | None, Query(ge=0, le=1)] = None,
        cleared: Annotated[int | None, Query(ge=0, le=1)] = None,
    ) -> Response:  # fmt: skip
        notice = N_("The duplicate profile was merged into this one.") if merged else None
        if cleared:
            notice = N_("The risk-review flag was cleared.")
        return profile(request, ctx, defender_id, notice=notice)

    @pages.post("/defenders/{defender_id}/merge", response_class=HTMLResponse)
    async def merge(request: Request, ctx: CurrentUser, defender_id: RecordId) -> Response:
        form = await read_form(request)
        duplicate = str(form.get("duplicate_id") or "").strip().lower()
        try:
            if not duplicate.isalnum() or len(duplicate) > 32:
                raise ValidationError("duplicate_id", "must be the id of another profile")
            ctx.registry.defenders.merge(defender_id, duplicate)
        except AmparoError as exc:
            return profile(request, ctx, defender_id, error=str(exc), status_code=422)
        return RedirectResponse(f"/defenders/{defender_id}?merged=1", status_code=303)

    return pages
