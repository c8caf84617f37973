"""Protection case pages: the list, the case (its people, risk, plan, urgent actions and
check-ins), setting its fields, the plan's measures and urgent actions' checklists."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.domain.risk import BANDS
from amparo.errors import NotFound, ValidationError
from amparo.services.protection import CHECKLISTS, MEASURE_KINDS, PROTECTION_STATUSES
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.charts import trajectory_chart
from amparo.web.i18n import N_, translations
from amparo.web.pages import read_form, render, vocab_labeller, vocab_options

__all__ = ["BAND_NAMES", "STATUS_NAMES", "URGENT_NAMES", "router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Flag = Annotated[int | None, Query(ge=0, le=1)]

BAND_NAMES = {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High"),
              "extreme": N_("Extreme")}  # fmt: skip
STATUS_NAMES = {"intake": N_("Intake"), "active": N_("Active"), "monitoring": N_("Monitoring"),
                "closed": N_("Closed")}  # fmt: skip
KIND_NAMES = {"preventive": N_("Preventive"), "emergency": N_("Emergency")}
URGENT_NAMES = {"un_appeal": N_("UN urgent appeal"), "emergency_grant": N_("Emergency grant"),
                "relocation": N_("Relocation"), "legal_aid": N_("Legal aid")}  # fmt: skip
CHECKIN_STATUS = {"active": N_("active"), "stopped": N_("stopped"), "ended": N_("ended")}
URGENT_STATUS = {"open": N_("open"), "done": N_("done"), "cancelled": N_("cancelled")}
# The checklists' steps as the service words them, so that the catalogs translate them.
STEP_TEXTS = (
    N_("Informed consent: she knows the State will be contacted and a summary published; "
       "name or initials chosen"),
    N_("Blocks A-D written: victim, work and its link to the attack, violation, perpetrators"),
    N_("Action taken nationally and its outcome recorded (block E)"),
    N_("Urgent appeal requested for ongoing or imminent harm (block H)"),
    N_("Sent to the Special Rapporteur on human rights defenders"),
    N_("Follow-up with the mandate recorded"),
    N_("Needs and budget agreed with her"),
    N_("Emergency fund chosen and its criteria checked"),
    N_("Application sent with a trusted reference"),
    N_("Funds received and her acknowledgment kept"),
    N_("Use of funds reported to the fund"),
    N_("She decided to relocate (her own informed choice)"),
    N_("Safe destination and host identified"),
    N_("Safe route, documents and travel arranged"),
    N_("Dependants' safety and care arranged"),
    N_("Arrival confirmed; check-ins set for the period"),
    N_("Return or longer-term plan agreed"),
    N_("Lawyer found and engaged"),
    N_("Power of attorney or authorisation signed"),
    N_("Case file, charges and evidence obtained"),
    N_("Filing, habeas corpus or defence submitted"),
    N_("Hearing attended and outcome recorded"),
)  # fmt: skip
NOTICES = {"saved": N_("The case was saved."), "measure": N_("The measure was saved."),
           "urgent": N_("The urgent action was saved.")}  # fmt: skip


def _errors(exc: ValidationError) -> dict[str, str]:
    return {exc.field: exc.message}


def _date(form: Any, name: str) -> date | None:
    text = str(form.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(name, "must be a date written YYYY-MM-DD") from None


def _choice(form: Any, name: str) -> str | None:
    return str(form.get(name) or "").strip()[:80] or None


def case_context(request: Request, ctx: CurrentUser, case_id: str) -> dict[str, Any]:
    """What the case, plan and check-in pages share (one audited read of the case)."""
    reg = ctx.registry
    lang = get_auth(request).language(request)
    view = reg.protection.overview(case_id)
    people = view["people"]
    flags = [flag for person in people
             for flag in reg.risk_flags.for_defender(person["id"], open_only=True)]  # fmt: skip
    names = {p["id"]: p["name"] or p["id"] for p in people}
    return {"view": view, "case": view["case"], "people": people, "flags": flags,
            "names": names, "label": vocab_labeller(ctx, lang), "lang": lang,
            "band_names": BAND_NAMES, "status_names": STATUS_NAMES, "kind_names": KIND_NAMES,
            "urgent_names": URGENT_NAMES, "urgent_status": URGENT_STATUS,
            "today": reg.clock.today(), "now_utc": reg.clock.now(),
            "checkin_status": CHECKIN_STATUS,
            "priorities": vocab_options(ctx, lang, "priorities"),
            "measure_statuses": vocab_options(ctx, lang, "intervention_status")}  # fmt: skip


def trajectory(request: Request, ctx: CurrentUser, defender_id: str) -> dict[str, Any]:
    """A defender's assessments, oldest first, and the chart of their scores."""
    history = ctx.registry.risk.history(defender_id)
    if not history:
        return {"history": [], "chart": None}
    gettext = translations(get_auth(request).language(request)).gettext
    cut = [float(x) for x in history[-1].cutpoints.split(",")]
    chart = trajectory_chart(
        [(f"v{a.version} {a.created_at:%Y-%m-%d}", a.index) for a in history],
        [(gettext(BAND_NAMES[b]), v) for b, v in zip(BANDS[1:], cut, strict=True)],
        title=gettext("Risk over time"),
        description=gettext("The risk score of each assessment, oldest first, against the "
                            "cut-points between bands; the table gives the numbers."),
    )  # fmt: skip
    return {"history": history, "chart": chart}


def router() -> APIRouter:
    pages = APIRouter()

    @pages.get("/cases", response_class=HTMLResponse)
    def case_list(request: Request, ctx: CurrentUser) -> Response:
        reg = ctx.registry
        rows = []
        for summary, incidents, defenders, _ in reg.cases.list(limit=500):
            if summary.shredded:
                continue
            rows.append((summary, reg.protection.get(summary.id), incidents, defenders))
        lang = get_auth(request).language(request)
        return render(request, ctx, "cases/list.html", rows=rows, status_names=STATUS_NAMES,
                      label=vocab_labeller(ctx, lang), today=reg.clock.today())  # fmt: skip

    def case_page(
        request: Request, ctx: CurrentUser, case_id: str, *, errors: dict[str, str] | None = None,
        notice: str | None = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        page = case_context(request, ctx, case_id)
        case = page["case"]
        focus = case.subject_defender_id or next(
            (p["id"] for p in page["people"] if p["version"]), None)  # fmt: skip
        page.update(trajectory(request, ctx, focus) if focus else {"history": [], "chart": None})
        page["latest"] = page["history"][-1] if page["history"] else None
        page["focus"] = focus
        page["schedules"] = ctx.registry.checkins.status(case_id=case_id)
        page["checklists"] = CHECKLISTS
        page["protection_statuses"] = PROTECTION_STATUSES
        page["measure_kinds"] = MEASURE_KINDS
        page["risk_items"] = {i.code: i for i in ctx.registry.risk.items}
        return render(
            request, ctx, "cases/detail.html", status_code, errors=errors or {}, notice=notice,
            error=N_("Please correct the fields marked below.") if errors else None, **page,
        )  # fmt: skip

    @pages.get("/cases/{case_id}", response_class=HTMLResponse)
    def show(
        request: Request, ctx: CurrentUser, case_id: RecordId,
        saved: Annotated[str | None, Query(max_length=20)] = None,
    ) -> Response:  # fmt: skip
        return case_page(request, ctx, case_id, notice=NOTICES.get(saved or ""))

    @pages.post("/cases/{case_id}", response_class=HTMLResponse)
    async def set_fields(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        form = await read_form(request, max_fields=20)
        changes: dict[str, Any] = {
            "subject_defender_id": _choice(form, "subject_defender_id"),
            "priority": _choice(form, "priority"),
            "protection_status": _choice(form, "protection_status"),
        }
        try:
            officer = _choice(form, "officer")
            if officer:
                try:
                    changes["officer_id"] = ctx.registry.accounts.get_by_username(officer).id
                except NotFound:
                    raise ValidationError("officer", "is not a user") from None
            ctx.registry.protection.update(
                case_id, **{k: v for k, v in changes.items() if v is not None})  # fmt: skip
        except ValidationError as exc:
            return case_page(request, ctx, case_id, errors=_errors(exc), status_code=422)
        return RedirectResponse(f"/cases/{case_id}?saved=saved", status_code=303)

    @pages.post("/cases/{case_id}/measures", response_class=HTMLResponse)
    async def add_measure(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        form = await read_form(request, max_fields=20)
        back = "/plan" if form.get("back") == "plan" else ""
        try:
            ctx.registry.protection.add_measure(
                case_id, kind=str(form.get("kind") or ""),
                description=str(form.get("description") or ""),
                owner=str(form.get("owner") or "") or None, due_on=_date(form, "due_on"),
                status=_choice(form, "status") or "pending",
                priority=_choice(form, "priority") or "normal", driver=_choice(form, "driver"),
            )  # fmt: skip
        except ValidationError as exc:
            if back:
                return plan_page(request, ctx, case_id, errors=_errors(exc), status_code=422,
                                 values=dict(form))  # fmt: skip
            return case_page(request, ctx, case_id, errors=_errors(exc), status_code=422)
        return RedirectResponse(f"/cases/{case_id}{back}?saved=measure", status_code=303)

    @pages.post("/measures/{measure_id}", response_class=HTMLResponse)
    async def update_measure(request: Request, ctx: CurrentUser, measure_id: RecordId) -> Response:
        form = await read_form(request, max_fields=20)
        case_id = str(form.get("case_id") or "")
        changes: dict[str, Any] = {}
        for name in ("status", "outcome", "owner"):
            if name in form:
                changes[name] = str(form.get(name) or "") or None
        if not changes.get("status"):
            changes.pop("status", None)
        try:
            if "due_on" in form:
                changes["due_on"] = _date(form, "due_on")
            measure = ctx.registry.protection.update_measure(measure_id, **changes)
        except ValidationError as exc:
            if not case_id.isalnum():
                raise
            return plan_page(request, ctx, case_id, errors={f"{measure_id}-{exc.field}":
                                                            exc.message},
                             status_code=422)  # fmt: skip
        return RedirectResponse(f"/cases/{measure.case_id}/plan?saved=measure", status_code=303)

    def plan_page(
        request: Request, ctx: CurrentUser, case_id: str, *, errors: dict[str, str] | None = None,
        notice: str | None = None, status_code: int = 200, values: dict[str, Any] | None = None,
    ) -> HTMLResponse:  # fmt: skip
        page = case_context(request, ctx, case_id)
        page["measure_kinds"] = MEASURE_KINDS
        page["risk_items"] = {i.code: i for i in ctx.registry.risk.items}
        return render(
            request, ctx, "cases/plan.html", status_code, errors=errors or {}, notice=notice,
            values=values or {},
            error=N_("Please correct the fields marked below.") if errors else None, **page,
        )  # fmt: skip

    @pages.get("/cases/{case_id}/plan", response_class=HTMLResponse)
    def plan(
        request: Request, ctx: CurrentUser, case_id: RecordId,
        saved: Annotated[str | None, Query(max_length=20)] = None,
    ) -> Response:  # fmt: skip
        return plan_page(request, ctx, case_id, notice=NOTICES.get(saved or ""))

    @pages.post("/cases/{case_id}/urgent", response_class=HTMLResponse)
    async def open_urgent(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        try:
            ctx.registry.protection.open_urgent(case_id, str(form.get("kind") or ""),
                                                str(form.get("note") or "") or None)  # fmt: skip
        except ValidationError as exc:
            return case_page(request, ctx, case_id, errors={f"urgent_{exc.field}": exc.message},
                             status_code=422)  # fmt: skip
        return RedirectResponse(f"/cases/{case_id}?saved=urgent#urgent-h", status_code=303)

    @pages.post("/urgent/{action_id}/tick", response_class=HTMLResponse)
    async def tick(request: Request, ctx: CurrentUser, action_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        action = ctx.registry.protection.tick(
            action_id, str(form.get("step") or "")[:40], done=form.get("done") != "0"
        )
        return RedirectResponse(f"/cases/{action.case_id}?saved=urgent#u-{action.id}",
                                status_code=303)  # fmt: skip

    @pages.post("/urgent/{action_id}/close", response_class=HTMLResponse)
    async def close(request: Request, ctx: CurrentUser, action_id: RecordId) -> Response:
        form = await read_form(request, max_fields=10)
        action = ctx.registry.protection.close_urgent(action_id, str(form.get("status") or ""))
        return RedirectResponse(f"/cases/{action.case_id}?saved=urgent#u-{action.id}",
                                status_code=303)  # fmt: skip

    return pages
