"""The analytics page: counts of acts by the dimensions chosen, over the incident list's
filters, as charts (inline SVG with their text alternative and data table), a cross-tab, a
trend and the escalation patterns; each chart downloadable as SVG, PNG or CSV.

Who sees which counts is decided by :mod:`amparo.analytics.aggregates` (the cases one may
read, or registry totals with small counts suppressed for analysts); nothing here reads a
record by identity.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from amparo.errors import ValidationError
from amparo.services.incidents import IncidentFilter
from amparo.web.auth import CurrentUser, get_auth
from amparo.web.i18n import N_, translations
from amparo.web.pages import render, vocab_options
from amparo.web.pages.incidents import FACETS

__all__ = ["DIMENSION_CHOICES", "router"]

Text = Annotated[str | None, Query(max_length=100)]
# Dimensions offered on the page (region is free text: never offered, it could name a village).
DIMENSION_CHOICES = ("act_type", "country", "gender_identity", "sector", "perpetrator_type",
                     "modality", "gender_specific", "gender_feature", "target_relation",
                     "defender_kind", "year")  # fmt: skip
PERIODS = ("year", "quarter", "month")
CHARTS = ("main", "trend")
MEDIA = {"svg": "image/svg+xml", "png": "image/png", "csv": "text/csv; charset=utf-8"}


def _filters(chosen: dict[str, str], year: str | None, date_from: str | None,
             date_to: str | None) -> IncidentFilter:  # fmt: skip
    """The incident list's facets, plus a year or a date range."""
    from datetime import date

    def day(name: str, text: str | None) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(name, "must be a date (YYYY-MM-DD)") from None

    year_value = None
    if year:
        if not year.isdigit() or not 1900 <= int(year) <= 2100:
            raise ValidationError("year", "must be between 1900 and 2100")
        year_value = int(year)
    return IncidentFilter(**chosen, year=year_value, date_from=day("from", date_from),  # type: ignore[arg-type]
                          date_to=day("to", date_to))  # fmt: skip


def _charts(ctx: Any, lang: str, by: list[str], crosswalk: str, period: str,
            q: IncidentFilter, which: tuple[str, ...] = CHARTS) -> dict[str, Any]:  # fmt: skip
    from amparo.analytics.aggregates import aggregate, escalations, trend
    from amparo.reports.figures import crosstab_chart, dimension_name, table_chart, trend_chart

    gettext = translations(lang).gettext
    reg = ctx.registry
    chart_lang = lang if lang in ("en", "es") else "en"
    out: dict[str, Any] = {}
    if "main" in which:
        table = aggregate(reg, by, q, crosswalk)
        names = " × ".join(dimension_name(d, chart_lang) for d in by)
        title = gettext("Acts by %(dimensions)s") % {"dimensions": names}
        out["table"] = table
        out["main"] = (table_chart(table, reg.vocab, title=title, lang=chart_lang)
                       if len(by) == 1 else
                       crosstab_chart(table, reg.vocab, title=title, lang=chart_lang))  # fmt: skip
    if "trend" in which:
        series = trend(reg, period, by[:1] if by[0] != "year" else (), q, crosswalk)
        per = dimension_name(period, chart_lang).lower()
        title = gettext("Acts per %(period)s") % {"period": per}
        out["trend"] = trend_chart(series, reg.vocab, lang=chart_lang, title=title)
    if "escalations" in which:
        out["escalations"] = escalations(reg, q)
    return out


def router() -> APIRouter:
    pages = APIRouter()

    def parse(
        country: str | None, act_type: str | None, gender_identity: str | None,
        sector: str | None, perpetrator_type: str | None, modality: str | None,
        gender_feature: str | None, gender_specific: str | None, year: str | None,
        date_from: str | None, date_to: str | None, by: str | None, by2: str | None,
        crosswalk: str | None, period: str | None,
    ) -> tuple[dict[str, str], IncidentFilter, list[str], str, str]:  # fmt: skip
        chosen = {
            "country": country, "act_type": act_type, "gender_identity": gender_identity,
            "sector": sector, "perpetrator_type": perpetrator_type, "modality": modality,
            "gender_feature": gender_feature, "gender_specific": gender_specific,
        }  # fmt: skip
        facets = {k: v for k, v in chosen.items() if v}
        dims = [d for d in (by or "act_type", by2) if d]
        for d in dims:
            if d not in DIMENSION_CHOICES:
                raise ValidationError("by", f"must be one of {', '.join(DIMENSION_CHOICES)}")
        if len(dims) == 2 and dims[0] == dims[1]:
            dims = dims[:1]
        if (period or "year") not in PERIODS:
            raise ValidationError("period", "must be year, quarter or month")
        return (facets, _filters(facets, year, date_from, date_to), dims,
                crosswalk or "amparo", period or "year")  # fmt: skip

    @pages.get("/analytics", response_class=HTMLResponse)
    def analytics(
        request: Request, ctx: CurrentUser,
        country: Text = None, act_type: Text = None, gender_identity: Text = None,
        sector: Text = None, perpetrator_type: Text = None, modality: Text = None,
        gender_feature: Text = None, gender_specific: Text = None, year: Text = None,
        date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
        by: Text = None, by2: Text = None, crosswalk: Text = None, period: Text = None,
    ) -> Response:  # fmt: skip
        from amparo.analytics.aggregates import CROSSWALKS
        from amparo.reports.figures import dimension_name

        lang = get_auth(request).language(request)
        raw = {"country": country, "act_type": act_type, "gender_identity": gender_identity,
               "sector": sector, "perpetrator_type": perpetrator_type, "modality": modality,
               "gender_feature": gender_feature, "gender_specific": gender_specific,
               "year": year, "from": date_from, "to": date_to, "by": by, "by2": by2,
               "crosswalk": crosswalk, "period": period}  # fmt: skip
        params = {k: v for k, v in raw.items() if v}
        error = None
        result: dict[str, Any] = {}
        chosen: dict[str, str] = {}
        try:
            chosen, q, dims, cw, per = parse(
                country, act_type, gender_identity, sector, perpetrator_type, modality,
                gender_feature, gender_specific, year, date_from, date_to, by, by2, crosswalk,
                period,
            )  # fmt: skip
            result = _charts(ctx, lang, dims, cw, per, q, ("main", "trend", "escalations"))
        except ValidationError as exc:
            error = str(exc)
            dims, cw, per = ["act_type"], "amparo", "year"
        chart_lang = lang if lang in ("en", "es") else "en"
        return render(
            request, ctx, "analytics.html", 400 if error else 200, error=error,
            filters=[(name, vocab_options(ctx, lang, vocab)) for name, vocab in FACETS],
            chosen=chosen, year=year or "", date_from=date_from or "", date_to=date_to or "",
            dimensions=[(d, dimension_name(d, chart_lang)) for d in DIMENSION_CHOICES],
            by=dims[0], by2=dims[1] if len(dims) > 1 else "", crosswalks=CROSSWALKS,
            crosswalk=cw, periods=PERIODS, period=per, params=params,
            main=result.get("main"), trend=result.get("trend"),
            table=result.get("table"), escalations=result.get("escalations"),
            svg=lambda chart: Markup(chart.svg),  # noqa: S704 (matplotlib escapes its text)
        )  # fmt: skip

    @pages.get("/analytics/{which}.{ext}")
    def download(
        request: Request, ctx: CurrentUser, which: str, ext: str,
        country: Text = None, act_type: Text = None, gender_identity: Text = None,
        sector: Text = None, perpetrator_type: Text = None, modality: Text = None,
        gender_feature: Text = None, gender_specific: Text = None, year: Text = None,
        date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
        by: Text = None, by2: Text = None, crosswalk: Text = None, period: Text = None,
    ) -> Response:  # fmt: skip
        """One chart of the page as a file: SVG, PNG, or its data table as CSV."""
        if which not in CHARTS or ext not in MEDIA:
            raise ValidationError("chart", "must be main or trend, as svg, png or csv")
        lang = get_auth(request).language(request)
        _, q, dims, cw, per = parse(
            country, act_type, gender_identity, sector, perpetrator_type, modality,
            gender_feature, gender_specific, year, date_from, date_to, by, by2, crosswalk,
            period,
        )  # fmt: skip
        chart = _charts(ctx, lang, dims, cw, per, q, (which,))[which]
        prolog = '<?xml version="1.0" encoding="utf-8"?>\n'
        body: str | bytes = (chart.png if ext == "png" else chart.csv() if ext == "csv"
                             else prolog + chart.svg)  # fmt: skip
        name = f"amparo-{which}-{'-'.join(dims)}.{ext}"
        return Response(body, media_type=MEDIA[ext], headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        })  # fmt: skip

    return pages


N_("Analytics")  # the menu entry (base.html)
