"""Aggregates (:mod:`amparo.analytics.aggregates`) turned into labelled charts.

One place decides how a count table reads: codes become their labels in the report's
language, ``None`` reads "not recorded" (or "not mapped" for an act type without a category
in the chosen crosswalk), suppressed cells stay suppressed. The period report and the
analytics page both draw through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from amparo.reports.charts import Chart, bar_chart, line_chart, stacked_bar_chart

if TYPE_CHECKING:
    from amparo.analytics.aggregates import Table, Trend
    from amparo.domain.vocabularies import Vocabularies

__all__ = ["DIMENSION_NAMES", "crosstab_chart", "dimension_name", "table_chart",
           "trend_chart", "value_label"]  # fmt: skip

DIMENSION_NAMES: dict[str, tuple[str, str]] = {
    "act_type": ("Act type", "Tipo de acto"),
    "country": ("Country", "País"),
    "region": ("Region", "Región"),
    "year": ("Year", "Año"),
    "quarter": ("Quarter", "Trimestre"),
    "month": ("Month", "Mes"),
    "gender_identity": ("Gender identity of the victim", "Identidad de género de la víctima"),
    "defender_kind": ("Kind of defender", "Tipo de persona defensora"),
    "sector": ("Sector of defence", "Sector de defensa"),
    "perpetrator_type": ("Perpetrator type", "Tipo de perpetrador"),
    "modality": ("Modality", "Modalidad"),
    "gender_specific": ("Gender-specific", "Específico de género"),
    "gender_feature": ("Gendered feature", "Rasgo de género"),
    "target_relation": ("Target", "Objetivo"),
    "acts": ("Acts", "Actos"),
    "not_recorded": ("not recorded", "sin registrar"),
    "not_mapped": ("not mapped", "sin correspondencia"),
    "others": ("others", "otros"),
}
VOCABULARY_OF = {
    "act_type": "act_types", "country": "countries", "gender_identity": "gender_identities",
    "defender_kind": "defender_kinds", "sector": "sectors",
    "perpetrator_type": "perpetrator_types", "modality": "modalities",
    "gender_specific": "yes_no_unknown", "gender_feature": "gender_features",
    "target_relation": "target_relations",
}  # fmt: skip


def dimension_name(dimension: str, lang: str) -> str:
    en, es = DIMENSION_NAMES.get(dimension, (dimension, dimension))
    return es if lang == "es" else en


def value_label(vocab: Vocabularies, dimension: str, value: Any, lang: str,
                crosswalk: str = "amparo") -> str:  # fmt: skip
    if value is None:
        key = "not_mapped" if dimension == "act_type" and crosswalk != "amparo" else "not_recorded"
        return dimension_name(key, lang)
    name = VOCABULARY_OF.get(dimension)
    if name is None or (dimension == "act_type" and crosswalk != "amparo"):
        return str(value)  # a period, a region, or a crosswalk category (already a name)
    try:
        return str(vocab[name].label(str(value), lang))
    except KeyError:
        return str(value)


def table_chart(table: Table, vocab: Vocabularies, *, title: str, lang: str = "en",
                limit: int = 15) -> Chart:  # fmt: skip
    """A one-dimension table as bars, the ``limit`` largest first, the rest summed as
    "others" (only published cells are summed; a suppressed one stays apart)."""
    if len(table.dimensions) != 1:
        raise ValueError("table_chart draws a table of one dimension")
    dim = table.dimensions[0]
    rows = list(table.rows)
    shown, rest = rows[:limit], rows[limit:]
    labels = [value_label(vocab, dim, r[0], lang, table.crosswalk) for r in shown]
    values: list[int | None] = [r[-1] for r in shown]
    if rest:
        labels.append(dimension_name("others", lang))
        # A suppressed cell among the rest makes their sum a way to recompute it: withhold.
        values.append(None if any(r[-1] is None for r in rest) else sum(r[-1] for r in rest))
    return bar_chart(labels, values, title=title, category=dimension_name(dim, lang),
                     measure=dimension_name("acts", lang), lang=lang)  # fmt: skip


def crosstab_chart(table: Table, vocab: Vocabularies, *, title: str, lang: str = "en",
                   rows_limit: int = 10, columns_limit: int = 6) -> Chart:  # fmt: skip
    """A two-dimension table as stacked bars: the first dimension along the axis, the second
    stacked (the largest of each kept, the rest as "others")."""
    if len(table.dimensions) != 2:
        raise ValueError("crosstab_chart draws a table of two dimensions")
    first, second = table.dimensions
    row_totals: dict[Any, int] = {}
    col_totals: dict[Any, int] = {}
    for a, b, n in table.rows:
        row_totals[a] = row_totals.get(a, 0) + (n or 0)
        col_totals[b] = col_totals.get(b, 0) + (n or 0)
    keep_rows = _largest(row_totals, rows_limit)
    keep_cols = _largest(col_totals, columns_limit)
    others = object()
    has_other_col = len(col_totals) > len(keep_cols)
    col_keys: list[Any] = [*keep_cols, *([others] if has_other_col else [])]
    cells: dict[tuple[Any, Any], int | None] = {}
    for a, b, n in table.rows:
        if a not in keep_rows:
            continue
        key = (a, b if b in keep_cols else others)
        if n is None and key[1] is not others:
            cells[key] = None
        elif key not in cells or cells[key] is not None:
            cells[key] = (cells.get(key) or 0) + (n or 0)
    series = {
        (dimension_name("others", lang) if c is others
         else value_label(vocab, second, c, lang, table.crosswalk)):
        [cells.get((a, c), 0) for a in keep_rows]
        for c in col_keys
    }  # fmt: skip
    labels = [value_label(vocab, first, a, lang, table.crosswalk) for a in keep_rows]
    return stacked_bar_chart(labels, series, title=title, category=dimension_name(first, lang),
                             measure=dimension_name("acts", lang), lang=lang)  # fmt: skip


def trend_chart(trend: Trend, vocab: Vocabularies, *, title: str, lang: str = "en",
                series_limit: int = 5) -> Chart:  # fmt: skip
    """Lines per series (or one line) over every period of the trend."""
    periods = sorted({r.period for r in trend.rows})
    by_series: dict[tuple[Any, ...], dict[str, int | None]] = {}
    for r in trend.rows:
        count = r.count  # None (or -1 in earlier versions): a suppressed cell
        by_series.setdefault(r.values, {})[r.period] = None if count is None or count < 0 else count
    totals = {k: sum(v or 0 for v in points.values()) for k, points in by_series.items()}
    chosen = _largest(totals, series_limit)
    series: dict[str, Sequence[int | None]] = {}
    for key in chosen:
        name = " / ".join(value_label(vocab, d, v, lang, trend.crosswalk)
                          for d, v in zip(trend.dimensions, key, strict=True))  # fmt: skip
        series[name or dimension_name("acts", lang)] = [by_series[key].get(p, 0) for p in periods]
    return line_chart(periods, series, title=title, category=dimension_name(trend.period, lang),
                      measure=dimension_name("acts", lang), lang=lang)  # fmt: skip


def _largest(totals: dict[Any, int], limit: int) -> list[Any]:
    ordered = sorted(totals, key=lambda k: (-totals[k], k is None, str(k)))
    return ordered[:limit]
