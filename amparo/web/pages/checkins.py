"""Staff check-in pages: schedule check-ins for a case's defender (her one-time link is shown
once), record a check-in received another way, replace a lost link, stop."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.clock import utc
from amparo.errors import NotFound, ValidationError
from amparo.web.auth import CurrentUser
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render
from amparo.web.pages.cases import case_context

__all__ = ["router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]


def router() -> APIRouter:
    pages = APIRouter()

    def page(
        request: Request, ctx: CurrentUser, case_id: str, *, errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None, link: str | None = None, notice: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        context = case_context(request, ctx, case_id)
        return render(
            request, ctx, "cases/checkins.html", status_code, errors=errors or {},
            values=values or {}, link=link, notice=notice,
            schedules=ctx.registry.checkins.status(case_id=case_id),
            code_page=f"{ctx.registry.settings.public_url}/checkin",
            error=N_("Please correct the fields marked below.") if errors else None, **context,
        )  # fmt: skip

    @pages.get("/cases/{case_id}/checkins", response_class=HTMLResponse)
    def checkins(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        return page(request, ctx, case_id)

    @pages.post("/cases/{case_id}/checkins", response_class=HTMLResponse)
    async def schedule(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        form = await read_form(request, max_fields=20)
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        reg = ctx.registry
        defender_id = values.get("defender_id", "")[:32]
        try:
            if defender_id not in {p["id"] for p in reg.protection.overview(case_id)["people"]}:
                raise ValidationError("defender_id", "choose a person of this case")
            try:
                every = float(values.get("every_hours", ""))
            except ValueError:
                raise ValidationError("every_hours", "must be a number of hours") from None
            try:
                grace = [
                    int(g) for g in values.get("grace_minutes", "30,60").split(",") if g.strip()
                ]
            except ValueError:
                raise ValidationError("grace_minutes", "whole minutes, e.g. 30,60") from None
            chain: list[dict[str, str]] = []
            for name in values.get("chain", "").replace(",", " ").split():
                try:
                    chain.append({"user": reg.accounts.get_by_username(name).id})
                except NotFound:
                    raise ValidationError("chain", "is not a user") from None
            for address in values.get("notify_emails", "").replace(",", " ").split():
                chain.append({"email": address})
            until = values.get("ends_at", "").strip()
            try:
                ends = utc(datetime.fromisoformat(until)) if until else None
            except ValueError:
                raise ValidationError("ends_at", "must be a date written YYYY-MM-DD") from None
            _, token = reg.checkins.schedule(defender_id, every_hours=every, chain=chain,
                                             grace_minutes=grace, ends_at=ends)  # fmt: skip
        except ValidationError as exc:
            return page(request, ctx, case_id, errors={exc.field: exc.message}, values=values,
                        status_code=422)  # fmt: skip
        return page(request, ctx, case_id, link=reg.checkins.link_for(token),
                    notice=N_("Check-ins were scheduled. Give her this link now: it is shown "
                              "only once."))  # fmt: skip

    @pages.post("/checkins/{schedule_id}/record", response_class=HTMLResponse)
    async def record(request: Request, ctx: CurrentUser, schedule_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        done = ctx.registry.checkins.record(schedule_id, str(form.get("note") or "") or None)
        return RedirectResponse(f"/cases/{done.case_id}/checkins#s-{done.id}", status_code=303)

    @pages.post("/checkins/{schedule_id}/link", response_class=HTMLResponse)
    async def new_link(request: Request, ctx: CurrentUser, schedule_id: RecordId) -> Response:
        await read_form(request, max_fields=10)
        reg = ctx.registry
        token = reg.checkins.new_link(schedule_id)
        case_id = next(s.case_id for s in reg.checkins.status() if s.id == schedule_id)
        return page(request, ctx, case_id, link=reg.checkins.link_for(token),
                    notice=N_("A new link was made; the old one no longer works. Give her this "
                              "link now: it is shown only once."))  # fmt: skip

    @pages.post("/checkins/{schedule_id}/stop", response_class=HTMLResponse)
    async def stop(request: Request, ctx: CurrentUser, schedule_id: RecordId) -> Response:
        await read_form(request, max_fields=10)
        reg = ctx.registry
        reg.checkins.stop(schedule_id)
        case_id = next(s.case_id for s in reg.checkins.status() if s.id == schedule_id)
        return RedirectResponse(f"/cases/{case_id}/checkins#s-{schedule_id}", status_code=303)

    return pages
