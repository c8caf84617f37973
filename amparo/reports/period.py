"""The period report: an annual-analysis style document of the attacks recorded between two
dates — headline figures, charts with their tables, a cross-tabulation, escalation patterns
and how everything was counted — in English or Spanish, as HTML or PDF.

It holds counts only, never a name: every figure comes from
:mod:`amparo.analytics.aggregates` over coded facets. Whoever may ``read`` registry records
gets the counts of the cases they may read; ``public=True`` (and anyone with only
``read_aggregates``) gets registry-wide counts with small cells suppressed (``k``, at least
5, plus complementary suppression), the version fit to publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from amparo.errors import ValidationError
from amparo.reports.charts import SUPPRESSED
from amparo.reports.document import (
    Block,
    Document,
    Figure,
    Headline,
    Notice,
    Paragraph,
    Section,
    Table,
    phrase,
)
from amparo.reports.figures import (
    crosstab_chart,
    dimension_name,
    table_chart,
    trend_chart,
    value_label,
)
from amparo.services.incidents import IncidentFilter

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["FORMATS", "STEPS", "build_period_report", "export_period_report"]

FORMATS = ("html", "pdf")
Progress = Callable[[int, int, str], None]  # (step done, steps, what) for long reports
STEPS = 10

W: dict[str, tuple[str, str]] = {
    "title": ("Attacks on human rights defenders", "Ataques contra personas defensoras de "
              "derechos humanos"),
    "subtitle": ("Period report, {start} to {end}", "Informe del periodo, {start} a {end}"),
    "period": ("Period", "Periodo"), "generated": ("Generated", "Generado"),
    "scope": ("Counted", "Conteo"),
    "scope_cases": ("acts in the cases the reader may read", "actos en los casos que la "
                    "persona lectora puede leer"),
    "scope_registry": ("the whole registry, small counts suppressed (k = {k})",
                       "todo el registro, con conteos pequeños suprimidos (k = {k})"),
    "crosswalk": ("Act types in", "Tipos de acto en"),
    "headline": ("Headline figures", "Cifras principales"),
    "acts": ("acts recorded", "actos registrados"),
    "killings": ("killings", "asesinatos"),
    "countries": ("countries", "países"),
    "gender_specific": ("of acts gender-specific", "de los actos con rasgos de género"),
    "online": ("of acts online (or online and in person)",
               "de los actos en línea (o en línea y en persona)"),
    "women": ("of acts against women (cis and trans)", "de los actos contra mujeres (cis y trans)"),
    "by_act_type": ("Acts by type", "Actos por tipo"),
    "by_country": ("Acts by country", "Actos por país"),
    "trend": ("Acts per {period}", "Actos por {period}"),
    "by_gender": ("Acts by gender identity of the victim",
                  "Actos por identidad de género de la víctima"),
    "by_perpetrator": ("Acts by perpetrator type", "Actos por tipo de perpetrador"),
    "crosstab": ("Act type by gender identity", "Tipo de acto por identidad de género"),
    "escalation": ("Escalation patterns", "Patrones de escalada"),
    "pattern": ("Pattern", "Patrón"),
    "with_first": ("Defenders with the first kind", "Personas con el primer tipo"),
    "escalated": ("Later attacked with the second kind", "Atacadas después con el segundo"),
    "median": ("Median days between", "Mediana de días entre ambos"),
    "online_before_offline": ("Online attacks before in-person attacks",
                              "Ataques en línea antes de ataques en persona"),
    "threat_before_physical": ("Threats before physical attacks",
                               "Amenazas antes de ataques físicos"),
    "escalation_text": ("For each defender, from her first act of the first kind to her first "
                        "act of the second kind after it.",
                        "Para cada persona defensora, desde su primer acto del primer tipo "
                        "hasta su primer acto del segundo tipo posterior."),
    "charts": ("Patterns", "Patrones"), "method": ("Methodology", "Metodología"),
    "none": ("No acts were recorded in this period.", "No se registraron actos en este periodo."),
    "m_unit": ("Counting unit. Every figure counts acts: one victim and one act type within "
               "an incident (HURIDOCS events standard). An incident with three victims "
               "threatened counts three acts; a killing preceded by threats counts both.",
               "Unidad de conteo. Cada cifra cuenta actos: una víctima y un tipo de acto dentro "
               "de un incidente (formato estándar de eventos de HURIDOCS). Un incidente con tres "
               "víctimas amenazadas cuenta tres actos; un asesinato precedido de amenazas cuenta "
               "ambos."),
    "m_dates": ("Dates. An act belongs to the period by its incident's start date; an "
                "approximate date counts at its recorded start. Periods with no act are "
                "shown as zero.",
                "Fechas. Un acto pertenece al periodo por la fecha de inicio de su incidente; una "
                "fecha aproximada cuenta en su inicio registrado. Los periodos sin actos "
                "aparecen en cero."),
    "m_multi": ("Several values. Sectors, perpetrator types and gendered features can be "
                "several per act: the act then counts once under each, so those charts add "
                "up to more than the total. Collectives and victims without a defender "
                "profile have no gender identity (\"not recorded\").",
                "Varios valores. Sectores, tipos de perpetrador y rasgos de género pueden ser "
                "varios por acto: el acto cuenta una vez en cada uno, y esos gráficos suman "
                "más que el total. Los colectivos y las víctimas sin perfil no tienen "
                "identidad de género (\"sin registrar\")."),
    "m_excluded": ("Excluded. Deleted records, records of shredded cases and acts outside "
                   "the period. Confidential incidents are counted (confidentiality hides "
                   "their text, not their existence). No name, place or narrative is used.",
                   "Excluidos. Registros eliminados, registros de casos destruidos y actos fuera "
                   "del periodo. Los incidentes confidenciales se cuentan (la "
                   "confidencialidad oculta su texto, no su existencia). No se usa ningún "
                   "nombre, lugar ni narración."),
    "m_suppression": ("Small counts. Cells below k = {k} are shown as \"{mark}\" and enough "
                      "further cells are hidden that none can be worked out from the totals "
                      "(complementary suppression), so no person can be singled out.",
                      "Conteos pequeños. Las celdas por debajo de k = {k} aparecen como "
                      "\"{mark}\" y se ocultan otras celdas para que ninguna pueda deducirse de "
                      "los totales (supresión complementaria): nadie puede ser identificado."),
    "m_internal": ("Internal report. Counts are exact and include small numbers: do not "
                   "publish it; make the public version with suppression instead.",
                   "Informe interno. Los conteos son exactos e incluyen números pequeños: no lo "
                   "publique; genere la versión pública con supresión."),
    "m_crosswalk": ("Categories. Act types are reported in the {scheme} categories; an "
                    "Amparo type without a category there is counted as \"not mapped\".",
                    "Categorías. Los tipos de acto se presentan en las categorías de {scheme}; "
                    "un tipo de Amparo sin categoría allí se cuenta como \"sin "
                    "correspondencia\"."),
    "footer_public": ("Counts only; small counts suppressed.",
                      "Solo conteos; conteos pequeños suprimidos."),
    "footer_internal": ("INTERNAL: exact counts including small numbers. Not for publication.",
                        "INTERNO: conteos exactos con números pequeños. No publicar."),
    "year": ("year", "año"), "quarter": ("quarter", "trimestre"), "month": ("month", "mes"),
}  # fmt: skip
SCHEMES = {"amparo": "Amparo", "huridocs": "HURIDOCS", "front_line_defenders":
           "Front Line Defenders", "bhrrc": "BHRRC", "im_defensoras": "IM-Defensoras",
           "sdg_16_10_1": "SDG 16.10.1"}  # fmt: skip


def _pct(part: int | None, whole: int | None) -> str:
    if part is None or not whole:
        return SUPPRESSED if part is None else "—"
    return f"{round(100 * part / whole)}%"


def _sum(table: Any, keep: Callable[[Any], bool]) -> int | None:
    """Sum of the published cells whose value passes ``keep``; None if one was suppressed."""
    total = 0
    for *values, n in table.rows:
        if keep(values[0]):
            if n is None:
                return None
            total += n
    return total


def build_period_report(
    registry: Registry, date_from: date, date_to: date, *, lang: str = "en",
    filters: IncidentFilter | None = None, crosswalk: str = "amparo", public: bool = False,
    k: int | None = None, progress: Progress | None = None,
) -> Document:  # fmt: skip
    from amparo.analytics.aggregates import aggregate, escalations, trend

    if date_to < date_from:
        raise ValidationError("to", "is before the start of the period")
    if lang not in ("en", "es"):
        raise ValidationError("lang", "must be en or es")
    q = replace(filters or IncidentFilter(), date_from=date_from, date_to=date_to,
                limit=None, offset=0, after=None, text=None)  # fmt: skip
    scope = "registry" if public or k is not None else None
    vocab = registry.vocab
    step = 0

    def w(key: str, **values: object) -> str:
        return phrase(W, key, lang).format(**values)

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(step, STEPS, what)

    def count(by: list[str], cw: str = "amparo") -> Any:
        table = aggregate(registry, by, q, cw, scope=scope, k=k)  # type: ignore[arg-type]
        tick(",".join(by) or "total")
        return table

    total_table = count([])
    protected = bool(total_table.protected)
    shown_k = total_table.k
    total = total_table.rows[0][-1] if total_table.rows else 0
    by_type = count(["act_type"], crosswalk)
    by_country = count(["country"])
    by_gender = count(["gender_identity"])
    by_modality = count(["modality"])
    by_specific = count(["gender_specific"])
    by_perpetrator = count(["perpetrator_type"])
    cross = count(["act_type", "gender_identity"])
    days = (date_to - date_from).days
    period = "month" if days <= 2 * 366 else "quarter" if days <= 6 * 366 else "year"
    series = trend(registry, period, (), q, scope=scope)  # type: ignore[arg-type]
    patterns = escalations(registry, q, scope=scope)  # type: ignore[arg-type]
    tick("trend and escalations")

    amparo_types = by_type if crosswalk == "amparo" else count_quiet(registry, q, scope, k)
    killings = _sum(amparo_types, lambda v: v == "A01")
    headline = Headline((
        (SUPPRESSED if total is None else f"{total:,}", w("acts")),
        (SUPPRESSED if killings is None else f"{killings:,}", w("killings")),
        (str(sum(1 for r in by_country.rows if r[0] is not None)), w("countries")),
        (_pct(_sum(by_specific, lambda v: v == "yes"), total), w("gender_specific")),
        (_pct(_sum(by_modality, lambda v: v in ("online", "both")), total), w("online")),
        (_pct(_sum(by_gender, lambda v: v in ("woman", "trans_woman")), total), w("women")),
    ))  # fmt: skip

    sections: list[Section] = [Section(w("headline"), (headline,), anchor="headline")]
    if not total:
        sections.append(Section(w("charts"), (Paragraph(w("none")),), anchor="charts"))
    else:
        figures = (
            Figure(table_chart(by_type, vocab, title=w("by_act_type"), lang=lang)),
            Figure(trend_chart(series, vocab, title=w("trend", period=w(period)), lang=lang)),
            Figure(table_chart(by_country, vocab, title=w("by_country"), lang=lang)),
            Figure(table_chart(by_gender, vocab, title=w("by_gender"), lang=lang)),
            Figure(table_chart(by_perpetrator, vocab, title=w("by_perpetrator"), lang=lang)),
            Figure(crosstab_chart(cross, vocab, title=w("crosstab"), lang=lang)),
        )
        sections.append(Section(w("charts"), figures, anchor="charts"))
        rows = tuple(
            (w(p.pattern), _n(p.defenders_with_first), _n(p.escalated),
             "—" if p.median_days is None else f"{p.median_days:g}")
            for p in patterns.patterns
        )  # fmt: skip
        sections.append(Section(w("escalation"), (
            Paragraph(w("escalation_text")),
            Table((w("pattern"), w("with_first"), w("escalated"), w("median")), rows),
        ), anchor="escalation"))  # fmt: skip
    tick("charts")

    method: list[Block] = [Paragraph(w("m_unit")), Paragraph(w("m_dates")), Paragraph(w("m_multi")),
              Paragraph(w("m_excluded")),
              Paragraph(w("m_crosswalk", scheme=SCHEMES.get(crosswalk, crosswalk)))]  # fmt: skip
    if protected:
        method.append(Paragraph(w("m_suppression", k=shown_k, mark=SUPPRESSED)))
    else:
        method.insert(0, Notice(w("m_internal")))
    sections.append(Section(w("method"), tuple(method), anchor="methodology"))

    now = registry.clock.now()
    used = sorted(k for k, v in q.__dict__.items()
                  if v not in (None, "", 0) and k not in ("date_from", "date_to", "sort",
                                                          "offset"))  # fmt: skip
    meta = [
        (w("period"), f"{date_from.isoformat()} – {date_to.isoformat()}"),
        (w("scope"), w("scope_registry", k=shown_k) if protected else w("scope_cases")),
        (w("crosswalk"), SCHEMES.get(crosswalk, crosswalk)),
        (w("generated"), now.strftime("%Y-%m-%d")),
    ]
    if used:
        meta.append(("Filters" if lang == "en" else "Filtros", ", ".join(
            f"{dimension_name(name, lang)}: {value_label(vocab, name, getattr(q, name), lang)}"
            for name in used)))  # fmt: skip
    return Document(
        title=w("title"),
        subtitle=w("subtitle", start=date_from.isoformat(), end=date_to.isoformat()),
        lang=lang, generated_at=now, meta=tuple(meta), sections=tuple(sections),
        footer=w("footer_public") if protected else w("footer_internal"),
        extra={"filters": used, "protected": protected},
    )  # fmt: skip


def count_quiet(registry: Registry, q: IncidentFilter, scope: Any, k: int | None) -> Any:
    """Amparo act types (for the killings figure) when the report uses another crosswalk."""
    from amparo.analytics.aggregates import aggregate

    return aggregate(registry, ["act_type"], q, "amparo", scope=scope, k=k)


def _n(value: int | None) -> str:
    return SUPPRESSED if value is None else str(value)


def export_period_report(
    registry: Registry, date_from: date, date_to: date, *, fmt: str = "html",
    lang: str = "en", filters: IncidentFilter | None = None, crosswalk: str = "amparo",
    public: bool = False, k: int | None = None, progress: Progress | None = None,
) -> bytes:  # fmt: skip
    """The report rendered as ``html`` or ``pdf``; one ``report.period`` audit entry."""
    if fmt not in FORMATS:
        raise ValidationError("format", "must be html or pdf")
    doc = build_period_report(registry, date_from, date_to, lang=lang, filters=filters,
                              crosswalk=crosswalk, public=public, k=k,
                              progress=progress)  # fmt: skip
    if fmt == "pdf":
        from amparo.reports.pdf import render_pdf

        data = render_pdf(doc)
    else:
        from amparo.reports.html import render_html

        data = render_html(doc).encode("utf-8")
    registry.audit.record_alone(
        "report.period", object_type="registry",
        detail={"from": date_from.isoformat(), "to": date_to.isoformat(), "lang": lang,
                "format": fmt, "crosswalk": crosswalk, "public": "yes" if doc.extra[
                    "protected"] else "no", "filters": doc.extra["filters"]},
    )  # fmt: skip
    return data
