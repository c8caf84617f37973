"""Report downloads: the period report and a case's dossier, as the library writes them.

A dossier is written at the level ``allowed()`` grants the reader now; asking for the full
dossier (``?full=1``) when only a recent re-authentication stands between the reader and
``export`` sends her to /reauth and back, as the admin pages do.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from amparo.errors import ValidationError
from amparo.security.permissions import Resource, allowed
from amparo.web.auth import CurrentUser, get_auth

__all__ = ["router"]

CaseId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def _attachment(data: bytes, name: str, ext: str) -> Response:
    return Response(data, media_type=MEDIA[ext], headers={
        "Content-Disposition": f'attachment; filename="{name}.{ext}"',
        "Cache-Control": "no-store",
    })  # fmt: skip


def _lang(request: Request, lang: str | None) -> str:
    chosen = lang or get_auth(request).language(request)
    return chosen if chosen in ("en", "es") else "en"


def router() -> APIRouter:
    pages = APIRouter()

    @pages.get("/reports/period.{ext}")
    def period_report(
        request: Request, ctx: CurrentUser, ext: str,
        date_from: Annotated[str, Query(alias="from", max_length=10)],
        date_to: Annotated[str, Query(alias="to", max_length=10)],
        lang: Annotated[str | None, Query(max_length=2)] = None,
        public: Annotated[int, Query(ge=0, le=1)] = 0,
    ) -> Response:  # fmt: skip
        from amparo.reports.period import export_period_report

        if ext not in MEDIA:
            raise ValidationError("format", "must be pdf or html")
        try:
            start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
        except ValueError:
            raise ValidationError("from", "must be a date (YYYY-MM-DD)") from None
        data = export_period_report(ctx.registry, start, end, fmt=ext,
                                    lang=_lang(request, lang), public=bool(public))  # fmt: skip
        return _attachment(data, f"amparo-report-{start}-{end}", ext)

    @pages.get("/cases/{case_id}/dossier.{ext}")
    def dossier(
        request: Request, ctx: CurrentUser, case_id: CaseId, ext: str,
        lang: Annotated[str | None, Query(max_length=2)] = None,
        full: Annotated[int, Query(ge=0, le=1)] = 0,
    ) -> Response:  # fmt: skip
        from amparo.reports.dossier import export_dossier

        if ext not in MEDIA:
            raise ValidationError("format", "must be pdf or html")
        reg = ctx.registry
        case = Resource("case", case_id)
        now = reg.clock.now()
        if full and not reg.allowed("export", case) and ctx.session is not None:
            fresh = replace(reg.principal, reauthenticated_at=now)
            if allowed(fresh, "export", case, now):
                target = f"/cases/{case_id}/dossier.{ext}?full=1"
                return RedirectResponse("/reauth?next=" + quote(target), status_code=303)
        data = export_dossier(reg, case_id, fmt=ext, lang=_lang(request, lang))
        return _attachment(data, f"amparo-dossier-{case_id[:12]}", ext)

    return pages
