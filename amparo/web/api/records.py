"""Incidents, defenders, cases and search over the JSON API.

Thin: each operation turns its parameters into a library call on the caller's registry view
(which checks ``allowed()``) and the result into JSON. Reads of identities are audited by the
services, exactly as at the command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BeforeValidator

from amparo.errors import ValidationError
from amparo.services import exports
from amparo.services.defenders import SORTS as DEFENDER_SORTS
from amparo.services.defenders import DefenderFilter
from amparo.services.incidents import SORTS as INCIDENT_SORTS
from amparo.services.incidents import IncidentFilter
from amparo.web.api import protected_router
from amparo.web.api.listing import (
    Cursor,
    Fields,
    Limit,
    Sort,
    decode_cursor,
    encode_cursor,
    page_body,
    parse_fields,
    select_fields,
)
from amparo.web.api.models import (
    CaseIn,
    CaseOut,
    CasePage,
    DefenderIn,
    DefenderOut,
    DefenderPage,
    DefenderPatch,
    DefenderSummaryOut,
    FieldChangeOut,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    IncidentSummaryOut,
    MergeIn,
    RestoreIn,
    SearchOut,
    VersionOut,
)
from amparo.web.auth import CurrentUser

__all__ = ["router"]

RecordId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
Code = Annotated[str | None, Query(max_length=64, description="A vocabulary code")]
Country = Annotated[str | None, Query(max_length=2, description="ISO 3166-1 alpha-2")]
Region = Annotated[str | None, Query(max_length=120)]
Year = Annotated[int | None, Query(ge=1900, le=2100)]


def _iso_day(value: object) -> object:
    """Only YYYY-MM-DD: pydantic would also read a number as Unix time (date_from=20240101
    is 1970-08-23 to it), silently filtering on the wrong day."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DateFrom = Annotated[
    date | None, BeforeValidator(_iso_day), Query(description="Earliest start date")
]
DateTo = Annotated[date | None, BeforeValidator(_iso_day), Query(description="Latest start date")]
Id = Annotated[str | None, Query(max_length=32)]
Keywords = Annotated[
    str | None, Query(max_length=500, description="Keywords; every word must occur")
]
IfMatch = Annotated[
    str | None,
    Header(max_length=40, description='The ETag of the version you edited, e.g. "3": a newer '
           "version on the server makes the request fail with 409 instead of overwriting it"),
]  # fmt: skip
# Response headers, for the OpenAPI schema (answers with one record carry its ETag).
_STRING = {"type": "string"}
ETAG = {"ETag": {"description": 'The version of the record, e.g. "3": send it as If-Match',
                 "required": True, "schema": _STRING}}  # fmt: skip
LOCATION = {"Location": {"description": "The path of the new record", "required": True,
                         "schema": _STRING}}  # fmt: skip
RECORD: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG}}
CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": {**LOCATION, **ETAG}}}
CASE_CREATED: dict[int | str, dict[str, Any]] = {201: {"headers": LOCATION}}


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise ValidationError("If-Match", 'must be an ETag given out by this API, e.g. "3"')
    return int(text)


def _record_response(
    record: dict[str, Any], fields: frozenset[str] | None, status: int = 200,
    location: str | None = None,
) -> JSONResponse:  # fmt: skip
    headers = {"ETag": _etag(int(record["version"]))}
    if location:
        headers["Location"] = location
    return JSONResponse(select_fields(record, fields), status_code=status, headers=headers)


def _encoded(first: str, rest: Iterator[str]) -> Iterator[bytes]:
    yield first.encode()
    for chunk in rest:
        yield chunk.encode()


def _incident_filter(
    country: str | None, region: str | None, act_type: str | None, year: int | None,
    date_from: date | None, date_to: date | None, gender_identity: str | None,
    sector: str | None, perpetrator_type: str | None, modality: str | None,
    gender_feature: str | None, gender_specific: str | None, case_id: str | None,
    defender_id: str | None, q: str | None, sort: str,
) -> IncidentFilter:  # fmt: skip
    return IncidentFilter(
        country=country, region=region, act_type=act_type, year=year, date_from=date_from,
        date_to=date_to, gender_identity=gender_identity, sector=sector,
        perpetrator_type=perpetrator_type, modality=modality, gender_feature=gender_feature,
        gender_specific=gender_specific, case_id=case_id, defender_id=defender_id,
        text=q if q and q.strip() else None, sort=sort,
    )  # fmt: skip


def router() -> APIRouter:
    api = protected_router("records")

    # -- incidents -------------------------------------------------------------------------
    @api.get("/incidents", response_model=IncidentPage, summary="List and search incidents")
    def list_incidents(
        ctx: CurrentUser,
        country: Country = None,
        region: Region = None,
        act_type: Code = None,
        year: Year = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        gender_identity: Code = None, sector: Code = None, perpetrator_type: Code = None,
        modality: Code = None, gender_feature: Code = None, gender_specific: Code = None,
        case_id: Id = None,
        defender_id: Id = None,
        q: Keywords = None,
        sort: Annotated[str, Sort(INCIDENT_SORTS)] = "-date",
        cursor: Cursor = None,
        limit: Limit = 50,
        fields: Fields = None,
    ) -> Response:  # fmt: skip
        """Newest first by default. Every facet filter combines with the others and with `q`
        (keywords over title, narrative, place, people and details; all words must occur).
        Follow `next_cursor` for the next page."""
        chosen = parse_fields(fields, IncidentSummaryOut)
        query = _incident_filter(
            country, region, act_type, year, date_from, date_to, gender_identity, sector,
            perpetrator_type, modality, gender_feature, gender_specific, case_id, defender_id,
            q, sort,
        )  # fmt: skip
        after = decode_cursor(cursor, sort)
        page = ctx.registry.incidents.list(
            IncidentFilter(**{**query.__dict__, "limit": limit + 1, "after": after})
        )
        return JSONResponse(page_body(page, limit, sort, chosen))

    @api.post("/incidents", status_code=201, response_model=IncidentOut,
              summary="Record an incident", responses=CREATED)  # fmt: skip
    def create_incident(ctx: CurrentUser, body: IncidentIn) -> Response:
        """Filed in `case_id`, else in the case of its first victim, else in a new case."""
        data = body.model_dump(exclude_unset=True)
        case_id = data.pop("case_id", None)
        incident = ctx.registry.incidents.add(data, case_id=case_id)
        return _record_response(incident.to_dict(), None, 201, f"/api/v1/incidents/{incident.id}")

    @api.get(
        "/incidents/export", summary="Export incidents in full",
        responses={200: {
            "description": "JSON Lines (lossless, one incident per line), a JSON array, or "
            "the flat CSV that `incidents import` reads",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {
                    "type": "array", "items": {"$ref": "#/components/schemas/IncidentOut"}}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }},
    )  # fmt: skip
    def export_incidents(
        ctx: CurrentUser,
        format: Annotated[str, Query(pattern="^(jsonl|json|csv)$")] = "jsonl",
        country: Country = None, region: Region = None, act_type: Code = None,
        year: Year = None, date_from: DateFrom = None, date_to: DateTo = None,
        gender_identity: Code = None, sector: Code = None, perpetrator_type: Code = None,
        modality: Code = None, gender_feature: Code = None, gender_specific: Code = None,
        case_id: Id = None, defender_id: Id = None, q: Keywords = None,
    ) -> Response:  # fmt: skip
        """Needs the `export` permission on every case involved: a re-authenticated session,
        or a token with scope `export`. Audited with the count, format and filter names.
        CSV cells that a spreadsheet would run as formulas are quoted (docs/threat-model.md)."""
        query = _incident_filter(
            country, region, act_type, year, date_from, date_to, gender_identity, sector,
            perpetrator_type, modality, gender_feature, gender_specific, case_id, defender_id,
            q, "-date",
        )  # fmt: skip
        records = ctx.registry.incidents.export(query, fmt=format)
        writer, media = {
            "jsonl": (exports.json_lines, "application/x-ndjson"),
            "json": (exports.json_array, "application/json"),
            "csv": (exports.csv_lines, "text/csv; charset=utf-8"),
        }[format]
        return StreamingResponse(
            (chunk.encode() for chunk in writer(records)), media_type=media,
            headers={"Content-Disposition": f'attachment; filename="incidents.{format}"'},
        )  # fmt: skip

    @api.get(
        "/incidents/export/partner", summary="Export a pseudonymised CSV for a partner",
        responses={200: {"description": "The flat CSV after an `incident` column, with "
                         "pseudonyms and coarsened detail (docs/import-export.md)",
                         "content": {"text/csv": {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    def export_partner_csv(
        ctx: CurrentUser,
        pseudonymise: Annotated[str, Query(
            pattern="^(none|((defenders|places|incidents|cases)(,(defenders|places|incidents|"
            "cases))*))$")] = "defenders,incidents,cases",
        dates: Annotated[str, Query(pattern="^(exact|month|year)$")] = "month",
        places: Annotated[str, Query(pattern="^(exact|region|country)$")] = "region",
        free_text: Annotated[str, Query(pattern="^(drop|keep)$")] = "drop",
        ignore_consent: bool = False,
        country: Country = None, region: Region = None, act_type: Code = None,
        year: Year = None, date_from: DateFrom = None, date_to: DateTo = None,
        case_id: Id = None,
    ) -> Response:  # fmt: skip
        """Needs the `export` permission on every case involved (a re-authenticated session,
        or a token with scope `export`), like the full export. Each export draws a fresh
        pseudonym key: two downloads cannot be joined (the CLI's `--salt-from-passphrase`
        links exports; a passphrase does not belong in a URL). Incidents against defenders
        without a current consent to sharing are left out unless `ignore_consent`. Audited
        once with the options."""
        from amparo.services.partner_export import PartnerOptions, partner_csv

        query = _incident_filter(
            country, region, act_type, year, date_from, date_to, None, None, None, None, None,
            None, case_id, None, None, "-date",
        )  # fmt: skip
        kinds = frozenset() if pseudonymise == "none" else frozenset(pseudonymise.split(","))
        options = PartnerOptions(pseudonymise=kinds, dates=dates, places=places,
                                 free_text=free_text, ignore_consent=ignore_consent)  # fmt: skip
        chunks = partner_csv(ctx.registry, options, query)
        # The header chunk now: permission, audit and option errors surface as a status.
        first = next(chunks)
        return StreamingResponse(
            _encoded(first, chunks),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="incidents-partner.csv"'},
        )  # fmt: skip

    @api.get("/incidents/{incident_id}", response_model=IncidentOut, summary="One incident",
             responses=RECORD)  # fmt: skip
    def get_incident(ctx: CurrentUser, incident_id: RecordId, fields: Fields = None) -> Response:
        """In full: acts, perpetrators, sources, interventions, links. The read is audited."""
        chosen = parse_fields(fields, IncidentOut)
        return _record_response(ctx.registry.incidents.get(incident_id).to_dict(), chosen)

    @api.patch("/incidents/{incident_id}", response_model=IncidentOut,
               summary="Amend an incident", responses=RECORD)  # fmt: skip
    def amend_incident(
        ctx: CurrentUser, incident_id: RecordId, body: IncidentPatch, if_match: IfMatch = None
    ) -> Response:
        """Fields given replace the stored ones (a list replaces the whole list); the old
        version stays in the history."""
        incident = ctx.registry.incidents.amend(
            incident_id, body.model_dump(exclude_unset=True),
            expected_version=_expected_version(if_match),
        )  # fmt: skip
        return _record_response(incident.to_dict(), None)

    @api.delete("/incidents/{incident_id}", status_code=204, summary="Delete an incident")
    def delete_incident(ctx: CurrentUser, incident_id: RecordId) -> Response:
        """Recoverable: `POST .../restore` brings back any earlier version."""
        ctx.registry.incidents.delete(incident_id)
        return Response(status_code=204)

    @api.get("/incidents/{incident_id}/history", response_model=list[VersionOut],
             summary="Versions of an incident")  # fmt: skip
    def incident_history(ctx: CurrentUser, incident_id: RecordId) -> Response:
        return JSONResponse([v.to_dict() for v in ctx.registry.incidents.history(incident_id)])

    @api.get("/incidents/{incident_id}/diff", response_model=list[FieldChangeOut],
             summary="What changed between two versions")  # fmt: skip
    def incident_diff(
        ctx: CurrentUser, incident_id: RecordId,
        old: Annotated[int, Query(ge=1, le=1_000_000)],
        new: Annotated[int, Query(ge=1, le=1_000_000)],
    ) -> Response:  # fmt: skip
        changes = ctx.registry.incidents.diff(incident_id, old, new)
        return JSONResponse(
            [{"field": c.field, "before": c.before, "after": c.after} for c in changes]
        )

    @api.post("/incidents/{incident_id}/restore", response_model=IncidentOut,
              summary="Make an earlier version current", responses=RECORD)  # fmt: skip
    def restore_incident(ctx: CurrentUser, incident_id: RecordId, body: RestoreIn) -> Response:
        incident = ctx.registry.incidents.restore(incident_id, body.version)
        return _record_response(incident.to_dict(), None)

    # -- defenders -------------------------------------------------------------------------
    @api.get("/defenders", response_model=DefenderPage, summary="List and search defenders")
    def list_defenders(
        ctx: CurrentUser,
        country: Country = None,
        region: Region = None,
        gender_identity: Code = None, sector: Code = None, kind: Code = None,
        case_id: Id = None,
        q: Keywords = None,
        include_merged: bool = False,
        sort: Annotated[str, Sort(DEFENDER_SORTS)] = "created",
        cursor: Cursor = None,
        limit: Limit = 50,
        fields: Fields = None,
    ) -> Response:  # fmt: skip
        chosen = parse_fields(fields, DefenderSummaryOut)
        after = decode_cursor(cursor, sort)
        page = ctx.registry.defenders.list(
            DefenderFilter(
                country=country, region=region, gender_identity=gender_identity, sector=sector,
                kind=kind, case_id=case_id, text=q if q and q.strip() else None,
                include_merged=include_merged, limit=limit + 1, sort=sort, after=after,
            )
        )  # fmt: skip
        return JSONResponse(page_body(page, limit, sort, chosen))

    @api.post("/defenders", status_code=201, response_model=DefenderOut,
              summary="Create a defender profile", responses=CREATED)  # fmt: skip
    def create_defender(ctx: CurrentUser, body: DefenderIn) -> Response:
        data = body.model_dump(exclude_unset=True)
        case_id = data.pop("case_id", None)
        defender = ctx.registry.defenders.add(data, case_id=case_id)
        return _record_response(defender.to_dict(), None, 201, f"/api/v1/defenders/{defender.id}")

    @api.get("/defenders/{defender_id}", response_model=DefenderOut, summary="One defender",
             responses=RECORD)  # fmt: skip
    def get_defender(ctx: CurrentUser, defender_id: RecordId, fields: Fields = None) -> Response:
        chosen = parse_fields(fields, DefenderOut)
        return _record_response(ctx.registry.defenders.get(defender_id).to_dict(), chosen)

    @api.patch("/defenders/{defender_id}", response_model=DefenderOut,
               summary="Amend a defender profile", responses=RECORD)  # fmt: skip
    def amend_defender(
        ctx: CurrentUser, defender_id: RecordId, body: DefenderPatch, if_match: IfMatch = None
    ) -> Response:
        defender = ctx.registry.defenders.amend(
            defender_id, body.model_dump(exclude_unset=True),
            expected_version=_expected_version(if_match),
        )  # fmt: skip
        return _record_response(defender.to_dict(), None)

    @api.delete("/defenders/{defender_id}", status_code=204, summary="Delete a defender")
    def delete_defender(ctx: CurrentUser, defender_id: RecordId) -> Response:
        ctx.registry.defenders.delete(defender_id)
        return Response(status_code=204)

    @api.get("/defenders/{defender_id}/history", response_model=list[VersionOut],
             summary="Versions of a defender profile")  # fmt: skip
    def defender_history(ctx: CurrentUser, defender_id: RecordId) -> Response:
        return JSONResponse([v.to_dict() for v in ctx.registry.defenders.history(defender_id)])

    @api.post("/defenders/{defender_id}/merge", response_model=DefenderOut,
              summary="Fold a duplicate profile into this one", responses=RECORD)  # fmt: skip
    def merge_defender(ctx: CurrentUser, defender_id: RecordId, body: MergeIn) -> Response:
        defender = ctx.registry.defenders.merge(defender_id, body.duplicate_id)
        return _record_response(defender.to_dict(), None)

    # -- cases -----------------------------------------------------------------------------
    def case_json(summary: Any, incidents: int, defenders: int, access: str | None) -> dict[
        str, Any
    ]:  # fmt: skip
        return {
            "id": summary.id, "title": summary.title,
            "status": "shredded" if summary.shredded else summary.status,
            "created_at": summary.created_at.isoformat(), "incidents": incidents,
            "defenders": defenders, "access": access,
        }  # fmt: skip

    @api.get("/cases", response_model=CasePage, summary="Cases you are a member of")
    def list_cases(ctx: CurrentUser, cursor: Cursor = None, limit: Limit = 50) -> Response:
        after = decode_cursor(cursor, "created")
        rows = ctx.registry.cases.list(after=after[1] if after else None, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return JSONResponse({
            "items": [case_json(*row) for row in rows],
            "next_cursor": encode_cursor("created", None, rows[-1][0].id) if more else None,
        })  # fmt: skip

    @api.post("/cases", status_code=201, response_model=CaseOut, summary="Open a case",
              responses=CASE_CREATED)  # fmt: skip
    def create_case(ctx: CurrentUser, body: CaseIn) -> Response:
        """You get a write grant on the case you open."""
        summary = ctx.registry.cases.open(body.title)
        access = "write" if ctx.registry.principal.user_id != "operator" else None
        return JSONResponse(
            case_json(summary, 0, 0, access), status_code=201,
            headers={"Location": f"/api/v1/cases/{summary.id}"},
        )  # fmt: skip

    @api.get("/cases/{case_id}", response_model=CaseOut, summary="One case")
    def get_case(ctx: CurrentUser, case_id: RecordId) -> Response:
        return JSONResponse(case_json(*ctx.registry.cases.overview(case_id)))

    # -- search ----------------------------------------------------------------------------
    @api.get("/search", response_model=SearchOut, summary="Keyword search over everything")
    def search(
        ctx: CurrentUser,
        q: Annotated[str, Query(min_length=1, max_length=500, description="Keywords")],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> Response:
        """The best `limit` incidents (newest first) and defender profiles for the keywords;
        the incident and defender listings take the same `q` together with every filter."""
        if not q.strip():
            raise ValidationError("q", "must contain a word")
        incidents = ctx.registry.incidents.list(IncidentFilter(text=q, limit=limit))
        defenders = ctx.registry.defenders.list(DefenderFilter(text=q, limit=limit))
        return JSONResponse({
            "incidents": [s.to_dict() for s in incidents],
            "defenders": [s.to_dict() for s in defenders],
        })  # fmt: skip

    return api
