"""Incident pages: the filtered list, the record with its history, the guided form."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from amparo.errors import ValidationError, ValidationErrors
from amparo.services.incidents import SORTS, IncidentFilter
from amparo.web.api.listing import decode_cursor, encode_cursor
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_
from amparo.web.pages import read_form, render, vocab_labeller, vocab_options
from amparo.web.pages.incident_form import (
    blank_row,
    form_field_name,
    record_from_form,
    rows_from_record,
)

__all__ = ["router"]

PAGE_SIZE = 50
RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Text = Annotated[str | None, Query(max_length=500)]
FACETS = (
    ("country", "countries"), ("act_type", "act_types"), ("gender_identity", "gender_identities"),
    ("sector", "sectors"), ("perpetrator_type", "perpetrator_types"), ("modality", "modalities"),
    ("gender_feature", "gender_features"), ("gender_specific", "yes_no_unknown"),
)  # fmt: skip
FORM_VOCABS = {
    "countries": "countries", "act_types": "act_types", "modalities": "modalities",
    "yes_no_unknown": "yes_no_unknown", "gender_features": "gender_features",
    "target_relations": "target_relations", "perpetrator_types": "perpetrator_types",
    "source_types": "source_types", "reliability": "reliability",
    "violation_status": "violation_status",
}  # fmt: skip


def _errors(exc: ValidationError) -> dict[str, str]:
    problems = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return {form_field_name(e.field): e.message for e in problems}


def router() -> APIRouter:
    pages = APIRouter()

    # -- the list --------------------------------------------------------------------------
    @pages.get("/incidents", response_class=HTMLResponse)
    def incident_list(
        request: Request, ctx: CurrentUser,
        q: Text = None, country: Text = None, act_type: Text = None, year: Text = None,
        gender_identity: Text = None, sector: Text = None, perpetrator_type: Text = None,
        modality: Text = None, gender_feature: Text = None, gender_specific: Text = None,
        sort: Annotated[str, Query(max_length=20)] = "-date",
        cursor: Annotated[str | None, Query(max_length=400)] = None,
    ) -> Response:  # fmt: skip
        lang = get_auth(request).language(request)
        chosen = {
            "country": country, "act_type": act_type, "gender_identity": gender_identity,
            "sector": sector, "perpetrator_type": perpetrator_type, "modality": modality,
            "gender_feature": gender_feature, "gender_specific": gender_specific,
        }  # fmt: skip
        chosen = {k: v for k, v in chosen.items() if v}
        error = None
        items: list[Any] = []
        next_cursor = None
        try:
            year_value = int(year) if year else None
            if year_value is not None and not 1900 <= year_value <= 2100:
                raise ValidationError("year", "must be between 1900 and 2100")
            query = IncidentFilter(
                **chosen,  # type: ignore[arg-type]  # every facet is text
                year=year_value, text=q.strip() if q and q.strip() else None,
                sort=sort, limit=PAGE_SIZE + 1, after=decode_cursor(cursor, sort),
            )  # fmt: skip
            items = ctx.registry.incidents.list(query)
            if len(items) > PAGE_SIZE:
                items = items[:PAGE_SIZE]
                next_cursor = encode_cursor(sort, items[-1].sort_value, items[-1].id)
        except ValueError:
            error = N_("The year must be a number.")
        except ValidationError as exc:
            error = str(exc)
        filters = [(name, vocab_options(ctx, lang, vocab_name)) for name, vocab_name in FACETS]
        params = {**chosen, **({"q": q} if q else {}), **({"year": year} if year else {}),
                  "sort": sort}  # fmt: skip
        return render(
            request, ctx, "incidents/list.html", 400 if error else 200, items=items,
            filters=filters, chosen=chosen, q=q or "", year=year or "", sort=sort,
            sorts=sorted(SORTS), next_cursor=next_cursor, params=params,
            label=vocab_labeller(ctx, lang), error=error, first_page=cursor is None,
        )  # fmt: skip

    # -- one incident ----------------------------------------------------------------------
    def detail(
        request: Request, ctx: CurrentUser, incident_id: str, *, old: int | None = None,
        new: int | None = None, revealed: bool = False, notice: str | None = None,
    ) -> HTMLResponse:  # fmt: skip
        reg = ctx.registry
        lang = get_auth(request).language(request)
        incident = reg.incidents.get(incident_id)
        history = reg.incidents.history(incident_id)
        changes = reg.incidents.diff(incident_id, old, new) if old and new else None
        seen = reg.audit.who_has_seen(incident_id)
        evidence: list[Any] = []
        service = getattr(reg, "evidence", None)
        if service is not None:
            try:
                evidence = list(service.list(incident_id=incident_id))
            except Exception:
                evidence = []
        if revealed and incident.confidential:
            with reg.store.write() as conn:
                reg.audit.record(conn, "incident.reveal", object_type="incident",
                                 object_id=incident_id)  # fmt: skip
        timeline = sorted(
            [(str(incident.date_start), "incident", incident.title)]
            + [(a.act_date.isoformat(), "act", a.act_type) for a in incident.acts if a.act_date]
            + [(i.intervention_date.isoformat(), "intervention", i.status)
               for i in incident.interventions if i.intervention_date]
            + [(v.at.date().isoformat(), "version", v.action) for v in history],
            key=lambda entry: entry[0],
        )  # fmt: skip
        return render(
            request, ctx, "incidents/detail.html", incident=incident, history=history,
            changes=changes, old=old, new=new, seen=seen, evidence=evidence,
            masked=incident.confidential and not revealed, label=vocab_labeller(ctx, lang),
            timeline=timeline, notice=notice,
        )  # fmt: skip

    @pages.get("/incidents/new", response_class=HTMLResponse)
    def new_form(request: Request, ctx: CurrentUser) -> Response:
        rows = {"acts": [blank_row("acts")], "perpetrators": [blank_row("perpetrators")],
                "sources": [blank_row("sources")]}  # fmt: skip
        return form_page(request, ctx, {}, rows, {}, action="/incidents/new")

    @pages.post("/incidents/new", response_class=HTMLResponse)
    async def create(request: Request, ctx: CurrentUser) -> Response:
        form = await read_form(request)
        record, rows = record_from_form(form)
        more = _add_rows(form, rows)
        if more:
            return form_page(request, ctx, record, rows, {}, action="/incidents/new")
        try:
            incident = ctx.registry.incidents.add(record)
        except ValidationError as exc:
            return form_page(request, ctx, record, rows, _errors(exc), action="/incidents/new",
                             status_code=422)  # fmt: skip
        return RedirectResponse(f"/incidents/{incident.id}?saved=1", status_code=303)

    @pages.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def show(
        request: Request, ctx: CurrentUser, incident_id: RecordId,
        old: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
        new: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
        saved: Annotated[int | None, Query(ge=0, le=1)] = None,
    ) -> Response:  # fmt: skip
        return detail(request, ctx, incident_id, old=old, new=new,
                      notice=N_("Saved.") if saved else None)  # fmt: skip

    @pages.post("/incidents/{incident_id}/reveal", response_class=HTMLResponse)
    async def reveal(request: Request, ctx: CurrentUser, incident_id: RecordId) -> Response:
        await read_form(request)
        return detail(request, ctx, incident_id, revealed=True)

    @pages.post("/incidents/{incident_id}/restore")
    async def restore(request: Request, ctx: CurrentUser, incident_id: RecordId) -> Response:
        form = await read_form(request)
        version = str(form.get("version") or "")
        if not version.isdigit() or len(version) > 7:
            raise ValidationError("version", "must be a version number")
        ctx.registry.incidents.restore(incident_id, int(version))
        return RedirectResponse(f"/incidents/{incident_id}?saved=1", status_code=303)

    @pages.post("/evidence/upload")
    async def upload_evidence(request: Request, ctx: CurrentUser) -> Response:
        """A file attached from the incident page (multipart; the CSRF check read the form)."""
        form = await request.form(max_files=1, max_fields=20)
        incident_id = str(form.get("incident_id") or "")
        upload = form.get("file")
        if not incident_id.isalnum() or len(incident_id) > 32:
            raise ValidationError("incident_id", "must name an incident")
        if isinstance(upload, str) or upload is None or not upload.filename:
            raise ValidationError("file", "choose a file to attach")
        incident = ctx.registry.incidents.get(incident_id)
        data = await upload.read()
        await upload.close()
        description = str(form.get("description") or "")[:10_000] or None
        ctx.registry.evidence.add(incident.case_id, upload.filename, data,
                                  incident_id=incident_id, description=description)  # fmt: skip
        return RedirectResponse(f"/incidents/{incident_id}?saved=1#evidence-h", status_code=303)

    @pages.get("/incidents/{incident_id}/edit", response_class=HTMLResponse)
    def edit_form(request: Request, ctx: CurrentUser, incident_id: RecordId) -> Response:
        incident = ctx.registry.incidents.get(incident_id)
        record = incident.to_dict()
        action = f"/incidents/{incident_id}/edit"
        rows = rows_from_record(record)
        return form_page(request, ctx, record, rows, {}, action=action, version=incident.version)

    @pages.post("/incidents/{incident_id}/edit", response_class=HTMLResponse)
    async def edit(request: Request, ctx: CurrentUser, incident_id: RecordId) -> Response:
        form = await read_form(request)
        record, rows = record_from_form(form)
        action = f"/incidents/{incident_id}/edit"
        version_text = str(form.get("version") or "")
        version = int(version_text) if version_text.isdigit() and len(version_text) < 8 else None
        if _add_rows(form, rows):
            return form_page(request, ctx, record, rows, {}, action=action, version=version)
        current = ctx.registry.incidents.get(incident_id).to_dict()
        # Keep what the form does not show (an act's company, an involvement's degree).
        for position, act in enumerate(record["acts"]):
            if position < len(current["acts"]):
                kept = {k: v for k, v in current["acts"][position].items()
                        if k not in act and k not in ("id", "involvements")}  # fmt: skip
                act.update(kept)
        try:
            ctx.registry.incidents.amend(incident_id, record, expected_version=version)
        except ValidationError as exc:
            return form_page(request, ctx, record, rows, _errors(exc), action=action,
                             version=version, status_code=422)  # fmt: skip
        return RedirectResponse(f"/incidents/{incident_id}?saved=1", status_code=303)

    def form_page(
        request: Request, ctx: CurrentUser, record: dict[str, Any],
        rows: dict[str, list[dict[str, Any]]], errors: dict[str, str], *, action: str,
        version: int | None = None, status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        lang = get_auth(request).language(request)
        options = {key: vocab_options(ctx, lang, name) for key, name in FORM_VOCABS.items()}
        return render(
            request, ctx, "incidents/form.html", status_code, record=record, rows=rows,
            errors=errors, options=options, action=action, version=version,
            today=date.today().isoformat(),
            error=N_("Please correct the fields marked below.") if errors else None,
        )  # fmt: skip

    return pages


def _add_rows(form: Any, rows: dict[str, list[dict[str, Any]]]) -> bool:
    """The "Add an act / perpetrator / source" buttons: one more empty row, no save."""
    kind = {"add_act": "acts", "add_perpetrator": "perpetrators",
            "add_source": "sources"}.get(str(form.get("more") or ""))  # fmt: skip
    if kind is None:
        return False
    if len(rows[kind]) < 50:
        rows[kind].append(blank_row(kind))
    return True
