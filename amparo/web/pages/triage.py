"""Triage pages: the batches (with an upload form), a batch's messages ranked by urgency with
relabel, dismiss and accept-as-incident, campaigns with their members; risk flags cleared."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.errors import AmparoError, ValidationError
from amparo.services.defenders import DefenderFilter
from amparo.services.triage import CATEGORIES, MAX_BATCH_BYTES, STATUSES, MessageFilter
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render, vocab_labeller

__all__ = ["router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Choice = Annotated[str | None, Query(max_length=40)]
PAGE_SIZE = 200


def router() -> APIRouter:
    pages = APIRouter()

    def batches_page(
        request: Request, ctx: CurrentUser, *, defender: str | None = None,
        error: str | None = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        reg = ctx.registry
        batches = reg.triage.batches(defender_id=defender or None, limit=200)
        defenders = reg.defenders.list(DefenderFilter(limit=500))
        return render(
            request, ctx, "triage/batches.html", status_code, batches=batches,
            defenders=defenders, chosen_defender=defender or "", error=error,
            max_mb=MAX_BATCH_BYTES // (1024 * 1024),
        )  # fmt: skip

    @pages.get("/triage", response_class=HTMLResponse)
    def batch_list(
        request: Request, ctx: CurrentUser,
        defender: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9a-f]*$")] = None,
    ) -> Response:  # fmt: skip
        return batches_page(request, ctx, defender=defender)

    @pages.post("/triage/upload", response_class=HTMLResponse)
    async def upload(request: Request, ctx: CurrentUser) -> Response:
        """A batch file for a defender (multipart; the CSRF check read the form)."""
        form = await request.form(max_files=1, max_fields=10)
        defender_id = str(form.get("defender_id") or "").strip().lower()
        upload = form.get("file")
        try:
            if not defender_id.isalnum() or len(defender_id) > 32:
                raise ValidationError("defender_id", "choose the defender they are aimed at")
            if isinstance(upload, str) or upload is None or not upload.filename:
                raise ValidationError("file", "choose a file of messages (CSV, JSON or JSON Lines)")
            data = await upload.read()
            stored = ctx.registry.triage.ingest(
                defender_id, data, name=upload.filename, rules_only=bool(form.get("rules_only"))
            )
        except AmparoError as exc:
            return batches_page(request, ctx, defender=defender_id if defender_id.isalnum()
                                else None, error=str(exc), status_code=422)  # fmt: skip
        finally:
            await form.close()
        return RedirectResponse(f"/triage/{stored.batch.id}?stored=1", status_code=303)

    @pages.get("/triage/{batch_id}", response_class=HTMLResponse)
    def batch_page(
        request: Request, ctx: CurrentUser, batch_id: RecordId, category: Choice = None,
        status: Choice = None, min_urgency: Annotated[int | None, Query(ge=0, le=100)] = None,
        stored: Annotated[int | None, Query(ge=0, le=1)] = None,
        done: Annotated[str | None, Query(max_length=20)] = None,
    ) -> Response:  # fmt: skip
        reg = ctx.registry
        lang = get_auth(request).language(request)
        batch = reg.triage.batch(batch_id)
        query = MessageFilter(category=category or None, status=status or None,
                              min_urgency=min_urgency, limit=PAGE_SIZE)  # fmt: skip
        error = None
        messages: list[Any] = []
        try:
            messages = reg.triage.messages(batch_id, query)
        except ValidationError as exc:
            error = str(exc)
        notices = {"relabelled": N_("The categories were saved."),
                   "dismissed": N_("The message was dismissed.")}  # fmt: skip
        notice = N_("The batch was analysed and stored.") if stored else notices.get(done or "")
        return render(
            request, ctx, "triage/batch.html", 400 if error else 200, batch=batch,
            messages=messages, campaigns=reg.triage.campaigns(batch_id),
            skipped=reg.triage.skipped_rows(batch_id), categories=CATEGORIES,
            statuses=STATUSES, chosen={"category": category or "", "status": status or "",
                                       "min_urgency": "" if min_urgency is None
                                       else str(min_urgency)},
            error=error, notice=notice, label=vocab_labeller(ctx, lang),
        )  # fmt: skip

    @pages.post("/triage/messages/{message_id}/relabel")
    async def relabel(request: Request, ctx: CurrentUser, message_id: RecordId) -> Response:
        form = await read_form(request, max_fields=20)
        chosen = [str(v) for v in form.getlist("categories")]
        done = ctx.registry.triage.relabel(message_id, chosen)
        return RedirectResponse(f"/triage/{done.batch_id}?done=relabelled#m-{done.id}",
                                status_code=303)  # fmt: skip

    @pages.post("/triage/messages/{message_id}/dismiss")
    async def dismiss(request: Request, ctx: CurrentUser, message_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        done = ctx.registry.triage.dismiss(message_id, str(form.get("reason") or ""))
        return RedirectResponse(f"/triage/{done.batch_id}?done=dismissed#m-{done.id}",
                                status_code=303)  # fmt: skip

    @pages.post("/triage/messages/{message_id}/accept")
    async def accept(request: Request, ctx: CurrentUser, message_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        result = ctx.registry.triage.accept(message_id, country=_country(form))
        return RedirectResponse(f"/incidents/{result.incident_id}?saved=1", status_code=303)

    @pages.post("/triage/campaigns/{campaign_id}/accept")
    async def accept_campaign(
        request: Request, ctx: CurrentUser, campaign_id: RecordId
    ) -> Response:
        form = await read_form(request, max_fields=10)
        result = ctx.registry.triage.accept_campaign(campaign_id, country=_country(form))
        return RedirectResponse(f"/incidents/{result.incident_id}?saved=1", status_code=303)

    @pages.post("/risk-flags/{flag_id}/clear")
    async def clear_flag(request: Request, ctx: CurrentUser, flag_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        flag = ctx.registry.risk_flags.clear(flag_id, str(form.get("note") or "") or None)
        return RedirectResponse(f"/defenders/{flag.defender_id}?cleared=1#flags-h",
                                status_code=303)  # fmt: skip

    return pages


def _country(form: Any) -> str | None:
    value = str(form.get("country") or "").strip().upper()
    return value if len(value) == 2 and value.isalpha() else None
