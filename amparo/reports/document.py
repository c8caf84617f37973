"""A report as plain data: sections of paragraphs, label/value lists, tables and charts.

Every report (period, dossier, UN communication) builds a :class:`Document`; one renderer
each turns it into HTML (:mod:`amparo.reports.html`), PDF (:mod:`amparo.reports.pdf`) or
plain text (:func:`render_text`), so the three always say the same thing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from amparo.domain.vocabularies import Vocabularies
from amparo.reports.charts import Chart

__all__ = [
    "REDACTED",
    "Block",
    "Document",
    "Fields",
    "Figure",
    "Headline",
    "Notice",
    "Paragraph",
    "Section",
    "Table",
    "labeller",
    "phrase",
    "render_text",
]

# What a reader without the right to see a value reads instead of it: the same marker in
# every format, so a test (or a person) can count what was withheld.
REDACTED = "[redacted]"
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the reader must not miss (a refusal, a missing fact, a warning)."""

    text: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fields:
    """Label: value pairs (a record's facts)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class Figure:
    chart: Chart


@dataclass(frozen=True)
class Headline:
    """Big numbers at the top of a period report: (figure, what it counts)."""

    figures: tuple[tuple[str, str], ...]


Block = Paragraph | Notice | Fields | Table | Figure | Headline


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]
    anchor: str | None = None


@dataclass(frozen=True)
class Document:
    title: str
    lang: str
    generated_at: datetime  # goes into the PDF's metadata instead of the wall clock
    sections: tuple[Section, ...]
    subtitle: str | None = None
    meta: tuple[tuple[str, str], ...] = ()  # shown under the title (period, case, reader)
    footer: str | None = None  # on every PDF page (a classification line)
    extra: Mapping[str, object] = field(default_factory=dict)

    def charts(self) -> list[Chart]:
        return [b.chart for s in self.sections for b in s.blocks if isinstance(b, Figure)]


def phrase(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """A report's own wording in English or Spanish (vocabulary labels come from the
    vocabularies; the web catalogs cover only the pages)."""
    en, es = table[key]
    return es if lang == "es" else en


def labeller(vocab: Vocabularies, lang: str) -> Callable[[str, str | None], str]:
    """``label(vocabulary, code)``: the term's label in ``lang``; the code itself if the
    vocabulary no longer knows it; a dash for no code."""

    def label(vocabulary: str, code: str | None) -> str:
        if not code:
            return "—"
        try:
            return str(vocab[vocabulary].label(code, lang))
        except KeyError:
            return code

    return label


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    for line in text.splitlines() or [""]:
        out += textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=True, break_on_hyphens=False) or [indent]  # fmt: skip
    return out


def _text_table(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """Aligned columns when they fit in ``width``; otherwise one "column: value" line per
    cell (nothing is ever cut: a truncated hash is no hash)."""
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    if sum(widths) + 2 * (len(widths) - 1) > width:
        out: list[str] = []
        for row in rows:
            for i, (column, cell) in enumerate(zip(columns, row, strict=True)):
                out += _wrap(f"{'- ' if i == 0 else '  '}{column}: {cell}", width)
        return out

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_text(doc: Document, width: int = 88) -> str:
    """The document as plain text (UTF-8, wrapped), for e-mail or review before sending."""
    out = [doc.title, "=" * min(len(doc.title), width)]
    if doc.subtitle:
        out += _wrap(doc.subtitle, width)
    for label, value in doc.meta:
        out += _wrap(f"{label}: {value}", width)
    for section in doc.sections:
        out += ["", section.heading, "-" * min(len(section.heading), width)]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out += [*_wrap(block.text, width), ""]
            elif isinstance(block, Notice):
                out += _wrap(f"! {block.text}", width)
                out += [line for item in block.items for line in _wrap(f"  - {item}", width)]
                out.append("")
            elif isinstance(block, Fields):
                for label, value in block.pairs:
                    out += _wrap(f"{label}: {value}", width)
                out.append("")
            elif isinstance(block, Headline):
                out += [f"  {figure:>8}  {text}" for figure, text in block.figures] + [""]
            elif isinstance(block, Table):
                if block.caption:
                    out += _wrap(block.caption, width)
                out += [*_text_table(block.columns, block.rows, width), ""]
            elif isinstance(block, Figure):
                out += _wrap(f"[{block.chart.title}] {block.chart.alt}", width)
                out += [*_text_table(block.chart.columns, block.chart.rows, width), ""]
    if doc.footer:
        out += ["", *_wrap(doc.footer, width)]
    return "\n".join(out).rstrip() + "\n"
