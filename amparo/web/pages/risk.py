"""The risk assessment form of a case's defender: every item with its help text in the page
language, the facts the overrides read, the officer's band with its reason; the result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.domain.risk import BANDS, FACTS, GROUPS
from amparo.errors import NotFound, ValidationError
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render
from amparo.web.pages.cases import BAND_NAMES

__all__ = ["router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
GROUP_NAMES = {"threat": N_("Threats"), "vulnerability": N_("Vulnerabilities"),
               "capacity": N_("Capacities")}  # fmt: skip
FACT_NAMES = {
    "death_threat_90d": N_("A death threat in the last 90 days"),
    "abduction_attempt_90d": N_("An abduction or abduction attempt in the last 90 days"),
    "attempted_killing_90d": N_("An attempted killing in the last 90 days"),
    "credible_death_threat": N_("A death threat judged credible (five-step threat analysis)"),
    "peer_killed_12m": N_("A peer killed nearby within the last 12 months"),
    "disappeared": N_("Disappeared or held incommunicado now"),
}
OVERRIDE_NAMES = {
    "at_least_high_90d": N_("At least High: a death threat, abduction or attempted killing "
                            "in the last 90 days"),
    "death_threat_and_peer_killed": N_("Extreme: a credible death threat and a peer killed "
                                       "nearby"),
    "disappeared": N_("Extreme and urgent action: disappeared or held incommunicado"),
}  # fmt: skip
ACTION_NAMES = {"reduce_threat": N_("reduce the threat"),
                "reduce_vulnerability": N_("reduce the vulnerability"),
                "build_capacity": N_("build capacity")}  # fmt: skip
assert set(FACT_NAMES) == set(FACTS)


def router() -> APIRouter:
    pages = APIRouter()

    def people(ctx: CurrentUser, case_id: str) -> list[dict[str, Any]]:
        return list(ctx.registry.protection.overview(case_id)["people"])

    def form_page(
        request: Request, ctx: CurrentUser, case_id: str, defender_id: str | None, *,
        values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
        result: Any = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        reg = ctx.registry
        lang = get_auth(request).language(request)
        case = reg.protection.get(case_id)
        persons = people(ctx, case_id)
        if not persons:
            raise NotFound(f"no defender in case {case_id}")
        ids = [p["id"] for p in persons]
        chosen = defender_id or case.subject_defender_id or ids[0]
        if chosen not in ids:
            raise NotFound(f"no defender {chosen} in this case")
        items = reg.risk.items
        if values is None:  # start from her latest assessment, if any
            values = {}
            try:
                latest = reg.risk.show(chosen)
            except NotFound:
                latest = None
            if latest is not None:
                values = {code: str(n) for code, n in latest.scores.items()}
                values.update({f"fact_{f}": "1" for f in latest.facts})
        by_code = {i.code: i for i in items}
        return render(
            request, ctx, "cases/assess.html", status_code, case=case, people=persons,
            defender_id=chosen, groups=[(g, [i for i in items if i.group == g]) for g in GROUPS],
            group_names=GROUP_NAMES, fact_names=FACT_NAMES, bands=BANDS, band_names=BAND_NAMES,
            override_names=OVERRIDE_NAMES, action_names=ACTION_NAMES, values=values,
            errors=errors or {}, result=result, lang=lang, items=by_code,
            error=N_("Please correct the fields marked below.") if errors else None,
        )  # fmt: skip

    @pages.get("/cases/{case_id}/assess", response_class=HTMLResponse)
    def assess_form(
        request: Request, ctx: CurrentUser, case_id: RecordId,
        defender: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9a-f]{1,32}$")] = None,
        version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    ) -> Response:  # fmt: skip
        if version is not None and defender:
            result = ctx.registry.risk.show(defender, version)
            values = {code: str(n) for code, n in result.scores.items()}
            return form_page(request, ctx, case_id, defender, result=result, values=values)
        return form_page(request, ctx, case_id, defender)

    @pages.post("/cases/{case_id}/assess", response_class=HTMLResponse)
    async def assess(request: Request, ctx: CurrentUser, case_id: RecordId) -> Response:
        form = await read_form(request, max_fields=80)
        reg = ctx.registry
        defender_id = str(form.get("defender_id") or "")[:32]
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        errors: dict[str, str] = {}
        scores: dict[str, int] = {}
        for item in reg.risk.items:
            text = values.get(item.code, "").strip()
            if not text.isdigit() or not 0 <= int(text) <= item.max:
                errors[item.code] = N_("choose a score")
            else:
                scores[item.code] = int(text)
        facts = [f for f in FACTS if values.get(f"fact_{f}")]
        band = values.get("band") or None
        reason = values.get("band_reason", "")
        if band is not None and band not in BANDS:
            errors["band"] = N_("choose a band")
        if defender_id not in {p["id"] for p in people(ctx, case_id)}:
            raise NotFound(f"no defender {defender_id} in this case")
        if not errors:
            preview = reg.risk.preview(defender_id, scores, facts)
            if band is not None and band != preview.band and not reason.strip():
                errors["band_reason"] = N_("say why the band differs from the computed one")
        if errors:
            return form_page(request, ctx, case_id, defender_id or None, values=values,
                             errors=errors, status_code=422)  # fmt: skip
        try:
            result = reg.risk.assess(defender_id, scores, facts, band=band, band_reason=reason
                                     or None, note=values.get("note") or None)  # fmt: skip
        except ValidationError as exc:
            return form_page(request, ctx, case_id, defender_id or None, values=values,
                             errors={exc.field: exc.message}, status_code=422)  # fmt: skip
        return RedirectResponse(f"/cases/{case_id}/assess?defender={defender_id}"
                                f"&version={result.version}#result-h", status_code=303)  # fmt: skip

    return pages
