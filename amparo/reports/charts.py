"""Charts drawn on the server with matplotlib (Agg): bar, stacked bar and trend lines.

Each chart comes back as a :class:`Chart` holding the SVG (for pages), the PNG (for PDFs and
downloads), a title, a one-sentence text alternative and the data table, so that nothing is
only visible as a picture (the same rule as :mod:`amparo.web.charts`, whose colours these
follow).

Output is byte-for-byte deterministic for the same data: matplotlib's bundled DejaVu Sans,
a fixed SVG hash salt, no dates or software names in the metadata. Tests compare it.
matplotlib is imported inside the functions: nothing heavy happens at import time.

A value of ``None`` is a suppressed cell (a small count withheld, see ``docs/reports.md``):
it is drawn as nothing, written as :data:`SUPPRESSED` in the table and named in the text
alternative, never guessed.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "SUPPRESSED",
    "Chart",
    "bar_chart",
    "line_chart",
    "stacked_bar_chart",
]

SUPPRESSED = "<k"  # what a table shows for a count withheld as too small to publish
INK, AXIS, GRID = "#1b1b1b", "#4a4a4a", "#d9d9d9"
# The house teal first (amparo.web.charts), then Okabe-Ito: distinguishable with the common
# colour-vision deficiencies and in greyscale print.
PALETTE = ("#1f3b38", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
           "#cc79a7", "#7f7f7f")  # fmt: skip
DPI = 100  # PNG pixels per inch: 7.2 in wide -> 720 px, the page charts' width
WIDTH_IN = 7.2
_RC: dict[Any, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs everywhere
    "font.size": 9.0,
    "svg.hashsalt": "amparo",  # otherwise element ids are random per run
    "svg.fonttype": "none",  # text stays text: searchable, selectable, read by screen readers
    "text.parse_math": False,  # a '$' in a label is a dollar, not TeX
    "axes.edgecolor": AXIS,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}
# matplotlib keeps global state (rcParams, font cache): one figure at a time per process.
_LOCK = threading.Lock()

Value = int | float | None

_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {"bar": "Bar chart", "stacked": "Stacked bar chart", "line": "Line chart",
           "highest": "highest", "total": "total", "categories": "categories",
           "suppressed": "suppressed as too small to publish", "from": "from", "to": "to",
           "series": "series", "none": "no data", "peak": "peak"},
    "es": {"bar": "Gráfico de barras", "stacked": "Gráfico de barras apiladas",
           "line": "Gráfico de líneas", "highest": "los más altos", "total": "total",
           "categories": "categorías", "suppressed": "omitidas por ser demasiado pequeñas "
           "para publicar", "from": "de", "to": "a", "series": "series", "none": "sin datos",
           "peak": "máximo"},
    "fr": {"bar": "Diagramme en barres", "stacked": "Diagramme en barres empilées",
           "line": "Graphique linéaire", "highest": "les plus élevés", "total": "total",
           "categories": "catégories", "suppressed": "masquées car trop petites pour être "
           "publiées", "from": "de", "to": "à", "series": "séries", "none": "aucune donnée",
           "peak": "maximum"},
    "pt": {"bar": "Gráfico de barras", "stacked": "Gráfico de barras empilhadas",
           "line": "Gráfico de linhas", "highest": "os mais altos", "total": "total",
           "categories": "categorias", "suppressed": "omitidas por serem pequenas demais "
           "para publicar", "from": "de", "to": "a", "series": "séries", "none": "sem dados",
           "peak": "máximo"},
    "ar": {"bar": "مخطط أعمدة", "stacked": "مخطط أعمدة مكدسة", "line": "مخطط خطي",
           "highest": "الأعلى", "total": "المجموع", "categories": "فئات",
           "suppressed": "محجوبة لصغرها", "from": "من", "to": "إلى", "series": "سلاسل",
           "none": "لا توجد بيانات", "peak": "الذروة"},
}  # fmt: skip


@dataclass(frozen=True)
class Chart:
    """One chart in both formats with everything needed to read it without seeing it."""

    title: str
    alt: str  # one sentence summarising the data, for alt text and <desc>
    columns: tuple[str, ...]  # the data table's header
    rows: tuple[tuple[str, ...], ...]  # the data table, formatted (suppressed = SUPPRESSED)
    # How to draw it: each format is rendered the first time it is asked for (a page needs
    # only the SVG, a PDF only the PNG; each costs about as much as the other).
    draw: Callable[[Figure], None] = field(compare=False, repr=False)
    height_in: float = field(default=3.2, compare=False, repr=False)

    @cached_property
    def svg(self) -> str:
        return _inline(_render(self.draw, self.height_in, "svg", self.title), self.title,
                       self.alt)  # fmt: skip

    @cached_property
    def png(self) -> bytes:
        return bytes(_render(self.draw, self.height_in, "png", self.title))

    def csv(self) -> str:
        """The data table as CSV text (formula-looking cells made inert for spreadsheets)."""
        import csv

        from amparo.services.csv_safety import safe_cell

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([safe_cell(c) for c in self.columns])
        writer.writerows([safe_cell(c) for c in row] for row in self.rows)
        return out.getvalue()


def _fmt(value: Value) -> str:
    if value is None:
        return SUPPRESSED
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return str(int(value))


def _words(lang: str) -> Mapping[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def _clean(text: str) -> str:
    """Labels go into XML and a one-line alt text: no control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()


def _short(label: str, limit: int = 34) -> str:
    """An axis or legend label short enough to leave room for the bars (the table beside
    the chart keeps the full text)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_chart(
    labels: Sequence[str], values: Sequence[Value], *, title: str, category: str,
    measure: str, lang: str = "en", horizontal: bool | None = None,
) -> Chart:  # fmt: skip
    """One bar per label. ``horizontal`` None chooses horizontal bars for many or long labels
    (country names read across, not rotated)."""
    labels = [_clean(label) for label in labels]
    if len(labels) != len(values):
        raise ValueError("bar_chart: one value per label")
    if horizontal is None:
        horizontal = len(labels) > 8 or max((len(label) for label in labels), default=0) > 14
    w = _words(lang)
    shown = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
    hidden = len(labels) - len(shown)
    if shown:
        top = sorted(shown, key=lambda item: (-float(item[1] or 0), item[0]))[:3]
        total = sum(float(v or 0) for _, v in shown)
        alt = (f"{w['bar']}: {_clean(title)}. {len(labels)} {w['categories']}, {w['total']} "
               f"{_fmt(total)}; {w['highest']}: "
               + ", ".join(f"{label} {_fmt(v)}" for label, v in top))  # fmt: skip
    else:
        alt = f"{w['bar']}: {_clean(title)}. {w['none']}"
    if hidden:
        alt += f"; {hidden} {w['suppressed']}"
    alt += "."

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        heights = [0.0 if v is None else float(v) for v in values]
        positions = list(range(len(labels)))
        if horizontal:
            ax.barh(positions, heights, color=PALETTE[0], height=0.7)
            ax.set_yticks(positions, [_short(x) for x in labels])
            ax.invert_yaxis()  # the first label on top, as in the table
            ax.set_xlabel(measure)
            ax.grid(axis="x", color=GRID, linewidth=0.6)
        else:
            ax.bar(positions, heights, color=PALETTE[0], width=0.7)
            ax.set_xticks(positions, [_short(x, 22) for x in labels],
                          rotation=30 if len(labels) > 5 else 0,
                          ha="right" if len(labels) > 5 else "center")  # fmt: skip
            ax.set_ylabel(measure)
            ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        _frame(ax, title, "x" if horizontal else "y")

    height = max(2.6, 0.28 * len(labels) + 1.2) if horizontal else 3.2
    rows = tuple((label, _fmt(v)) for label, v in zip(labels, values, strict=True))
    return Chart(_clean(title), alt, (category, measure), rows, draw, height)


def stacked_bar_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[Value]], *, title: str,
    category: str, measure: str, lang: str = "en",
) -> Chart:  # fmt: skip
    """One bar per label, split by series (a cross-tab: rows = labels, columns = series)."""
    labels = [_clean(label) for label in labels]
    names = [_clean(name) for name in series]
    columns_values = list(series.values())
    if any(len(v) != len(labels) for v in columns_values):
        raise ValueError("stacked_bar_chart: every series needs one value per label")
    w = _words(lang)
    totals = [sum(float(v) for v in column if v is not None) for column in zip(*columns_values,
              strict=True)] if columns_values else [0.0] * len(labels)  # fmt: skip
    hidden = sum(1 for column in columns_values for v in column if v is None)
    if labels and any(totals):
        best = max(range(len(labels)), key=lambda i: (totals[i], -i))
        alt = (f"{w['stacked']}: {_clean(title)}. {len(labels)} {w['categories']} × "
               f"{len(names)} {w['series']} ({', '.join(names)}); {w['highest']}: "
               f"{labels[best]} {_fmt(totals[best])}")  # fmt: skip
    else:
        alt = f"{w['stacked']}: {_clean(title)}. {w['none']}"
    if hidden:
        alt += f"; {hidden} {w['suppressed']}"
    alt += "."

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        base = [0.0] * len(labels)
        for index, (name, column) in enumerate(zip(names, columns_values, strict=True)):
            heights = [0.0 if v is None else float(v) for v in column]
            ax.bar(
                positions,
                heights,
                bottom=base,
                width=0.7,
                label=name,
                color=PALETTE[index % len(PALETTE)],
                edgecolor="white",
                linewidth=0.4,
            )
            base = [b + h for b, h in zip(base, heights, strict=True)]  # fmt: skip
        ax.set_xticks(positions, [_short(x, 22) for x in labels],
                      rotation=30 if len(labels) > 5 else 0,
                      ha="right" if len(labels) > 5 else "center")  # fmt: skip
        ax.set_ylabel(measure)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        if names:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _frame(ax, title)

    rows = tuple(
        (label, *(_fmt(column[i]) for column in columns_values)) for i, label in enumerate(labels)
    )
    return Chart(_clean(title), alt, (category, *names), rows, draw, 3.4)


def line_chart(
    periods: Sequence[str], series: Mapping[str, Sequence[Value]], *, title: str,
    category: str, measure: str, lang: str = "en",
) -> Chart:  # fmt: skip
    """A trend: one line per series over ordered periods (months, years)."""
    periods = [_clean(p) for p in periods]
    names = [_clean(name) for name in series]
    columns_values = list(series.values())
    if any(len(v) != len(periods) for v in columns_values):
        raise ValueError("line_chart: every series needs one value per period")
    w = _words(lang)
    hidden = sum(1 for column in columns_values for v in column if v is None)
    parts = []
    for name, column in zip(names, columns_values, strict=True):
        known = [(p, v) for p, v in zip(periods, column, strict=True) if v is not None]
        if known:
            peak = max(known, key=lambda item: float(item[1] or 0))
            parts.append(f"{name} {w['from']} {_fmt(known[0][1])} ({known[0][0]}) {w['to']} "
                         f"{_fmt(known[-1][1])} ({known[-1][0]}), {w['peak']} {_fmt(peak[1])} "
                         f"({peak[0]})")  # fmt: skip
    alt = f"{w['line']}: {_clean(title)}. " + ("; ".join(parts) if parts else w["none"])
    if hidden:
        alt += f"; {hidden} {w['suppressed']}"
    alt += "."

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        positions = list(range(len(periods)))
        for index, (name, column) in enumerate(zip(names, columns_values, strict=True)):
            ys = [float("nan") if v is None else float(v) for v in column]
            ax.plot(positions, ys, marker="o", markersize=3, linewidth=1.6, label=_short(name, 26),
                    color=PALETTE[index % len(PALETTE)])  # fmt: skip
        step = max(1, len(periods) // 12)  # at most about twelve period labels
        ax.set_xticks(positions[::step], periods[::step],
                      rotation=30 if len(periods) > 6 else 0,
                      ha="right" if len(periods) > 6 else "center")  # fmt: skip
        ax.set_ylabel(measure)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        if len(names) > 1:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _frame(ax, title)

    rows = tuple(
        (period, *(_fmt(column[i]) for column in columns_values))
        for i, period in enumerate(periods)
    )
    return Chart(_clean(title), alt, (category, *names), rows, draw, 3.2)


def _frame(ax: Any, title: str, value_axis: str = "y") -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(_clean(title), loc="left", fontsize=10.5, color=INK, fontweight="bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # Counts are whole numbers: no tick at 2.5 killings.
    (ax.xaxis if value_axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))


def _render(draw: Callable[[Figure], None], height_in: float, fmt: str, title: str) -> Any:
    """The figure as SVG text or PNG bytes (one format per call: the other is not paid for)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        FigureCanvasAgg(fig)
        draw(fig)
        with warnings.catch_warnings():
            # Very long labels can leave tight_layout nothing to do: keep the default layout.
            warnings.simplefilter("ignore", UserWarning)
            fig.tight_layout()
        out = io.BytesIO()
        if fmt == "svg":
            fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
            return out.getvalue().decode("utf-8")
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None, "Title": title})
        return out.getvalue()


def _presentation(match: re.Match[str]) -> str:
    """``style="fill: #fff; stroke-width: 0.8"`` as presentation attributes: pages forbid
    inline styles (CSP ``style-src 'self'``), and every property matplotlib writes is one."""
    out = []
    for part in match.group(1).split(";"):
        name, _, value = part.partition(":")
        name, value = name.strip(), value.strip().replace("'", "")
        if name == "font-family":
            value += ", sans-serif"
        if name and value and re.fullmatch(r"[a-z-]+", name):
            out.append(f' {name}="{escape(value)}"')
    return "".join(out)


def _inline(svg: str, title: str, alt: str) -> str:
    """The SVG as an element to put in a page: no XML prolog or DOCTYPE, no style sheet or
    style attribute, role="img", and its title and description first, where assistive
    technology looks for them."""
    import re
    from html import escape

    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r' style="([^"]*)"', _presentation, svg)
    start = svg.index("<svg")
    head_end = svg.index(">", start)
    # Sized by the page (CSS), not in points: the viewBox keeps the proportions.
    head = re.sub(r' (width|height)="[^"]*pt"', "", svg[start:head_end])
    body = svg[head_end + 1 :]
    head += ' stroke-linejoin="round" stroke-linecap="butt"'  # what the <style> said
    return (f'{head} role="img" aria-label="{escape(_clean(title))}">'
            f"<title>{escape(_clean(title))}</title><desc>{escape(alt)}</desc>{body}")  # fmt: skip
