"""The intake inbox for reviewers: ``/intake`` lists sealed submissions (nothing of their
content), ``/intake/<id>`` opens one (decrypted in memory, audited) with possible duplicates,
and its forms accept it as a new incident, link it to an existing incident or defender, or
discard it with a reason. Nothing reaches the registry except through these decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.errors import Conflict, ValidationError
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render, vocab_options

__all__ = ["router"]

SubmissionId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
STATUS_LABELS = {"received": N_("Received"), "in_review": N_("In review"),
                 "acted_on": N_("Acted on")}  # fmt: skip
QUARANTINE_LABELS = {"unknown_device": N_("Quarantined: signed by an unregistered device"),
                     "revoked_device": N_("Quarantined: signed by a revoked device")}  # fmt: skip


def router() -> APIRouter:
    pages = APIRouter()

    @pages.get("/intake", response_class=HTMLResponse)
    def inbox(request: Request, ctx: CurrentUser, all: str = "") -> Response:
        items = ctx.registry.intake.inbox(include_decided=bool(all))
        return render(request, ctx, "intake/inbox.html", items=items, show_all=bool(all),
                      status_labels=STATUS_LABELS, quarantine_labels=QUARANTINE_LABELS)  # fmt: skip

    def page(
        request: Request, ctx: CurrentUser, submission_id: str, *, status_code: int = 200,
        errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
    ) -> HTMLResponse:  # fmt: skip
        service = ctx.registry.intake
        opened = service.open(submission_id)
        lang = get_auth(request).language(request)
        return render(
            request, ctx, "intake/submission.html", status_code, s=opened,
            suggestions=service.suggestions(opened), prefill=service.prefill(opened),
            values=values or {}, errors=errors or {},
            countries=vocab_options(ctx, lang, "countries"),
            act_types=vocab_options(ctx, lang, "act_types"),
            quarantine_labels=QUARANTINE_LABELS,
            error=N_("Please correct the fields marked below.") if errors else None,
        )  # fmt: skip

    @pages.get("/intake/{submission_id}", response_class=HTMLResponse)
    def show(request: Request, ctx: CurrentUser, submission_id: SubmissionId) -> Response:
        return page(request, ctx, submission_id)

    @pages.post("/intake/{submission_id}/accept", response_class=HTMLResponse)
    async def accept(request: Request, ctx: CurrentUser, submission_id: SubmissionId) -> Response:
        form = await read_form(request, max_fields=20)
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        service = ctx.registry.intake
        try:
            fields: dict[str, Any] = {"country": values.get("country", "")}
            for name in ("title", "date_start", "place"):
                if values.get(name, "").strip():
                    fields[name] = values[name].strip()
            incident_id = service.accept(
                submission_id, fields, act_type=values.get("act_type", ""),
                release=values.get("release") == "yes",
            )  # fmt: skip
        except ValidationError as exc:
            field = exc.field.split(".")[-1] if exc.field else "form"
            field = "act_type" if field.startswith("acts") else field
            return page(request, ctx, submission_id, status_code=400, values=values,
                        errors={field: exc.message})  # fmt: skip
        except Conflict as exc:
            return page(request, ctx, submission_id, status_code=409, values=values,
                        errors={"form": str(exc)})  # fmt: skip
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    @pages.post("/intake/{submission_id}/link", response_class=HTMLResponse)
    async def link(request: Request, ctx: CurrentUser, submission_id: SubmissionId) -> Response:
        form = await read_form(request, max_fields=10)
        target = str(form.get("target", "")).strip()
        kind, _, record_id = target.partition(":")
        try:
            if kind not in ("incident", "defender") or not record_id:
                raise ValidationError("target", "choose an incident or a defender")
            ctx.registry.intake.link(
                submission_id, incident_id=record_id if kind == "incident" else None,
                defender_id=record_id if kind == "defender" else None,
                release=form.get("release") == "yes",
            )  # fmt: skip
        except (ValidationError, Conflict) as exc:
            message = exc.message if isinstance(exc, ValidationError) else str(exc)
            return page(request, ctx, submission_id, status_code=400,
                        errors={"target": message})  # fmt: skip
        return RedirectResponse("/intake", status_code=303)

    @pages.post("/intake/{submission_id}/discard", response_class=HTMLResponse)
    async def discard(request: Request, ctx: CurrentUser, submission_id: SubmissionId) -> Response:
        form = await read_form(request, max_fields=5)
        try:
            ctx.registry.intake.discard(submission_id, str(form.get("reason", "")))
        except (ValidationError, Conflict) as exc:
            message = exc.message if isinstance(exc, ValidationError) else str(exc)
            return page(request, ctx, submission_id, status_code=400,
                        errors={"reason": message})  # fmt: skip
        return RedirectResponse("/intake", status_code=303)

    return pages
