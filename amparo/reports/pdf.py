"""A :class:`~amparo.reports.document.Document` as PDF, with fpdf2 (imported when used).

Text is set in DejaVu Sans, the Unicode TrueType font matplotlib ships (so accents, ñ, ç
and the like come out right with nothing else to install); charts are the PNGs rendered by
:mod:`amparo.reports.charts`, each followed by its text alternative and data table. The
creation date is the document's own, never the wall clock, so the same records give the
same file.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

from amparo.reports.document import (
    Document,
    Fields,
    Figure,
    Headline,
    Notice,
    Paragraph,
    Table,
)

__all__ = ["font_path", "render_pdf"]

TEAL = (31, 59, 56)
GREY = (74, 74, 74)
MARGIN_MM = 18


def font_path(bold: bool = False) -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _pdf_class() -> Any:
    from fpdf import FPDF

    class ReportPDF(FPDF):
        footer_text = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", size=7.5)
            self.set_text_color(*GREY)
            text = f"{self.footer_text}   {self.page_no()}/{{nb}}".strip()
            self.cell(0, 5, text, align="C")

    return ReportPDF


def render_pdf(doc: Document) -> bytes:
    pdf = _pdf_class()(format="A4", unit="mm")
    pdf.footer_text = doc.footer or ""
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(doc.title)
    pdf.set_lang(doc.lang)
    pdf.set_creator("Amparo")
    pdf.set_creation_date(doc.generated_at)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("DejaVu", "B", 17)
    pdf.set_text_color(*TEAL)
    pdf.multi_cell(width, 8, doc.title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    if doc.subtitle:
        pdf.set_font("DejaVu", "", 10.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(width, 5.5, doc.subtitle, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    _pairs(pdf, doc.meta, width)

    for section in doc.sections:
        first = section.blocks[0] if section.blocks else None
        need = _image_size(first.chart.png, width)[1] + 20 if isinstance(first, Figure) else 30
        if pdf.will_page_break(need):  # a heading stays with what follows it
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 13)
        pdf.set_text_color(*TEAL)
        pdf.multi_cell(width, 7, section.heading, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_draw_color(*TEAL)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)
        for block in section.blocks:
            _block(pdf, block, width)
    return bytes(pdf.output())


def _pairs(pdf: Any, pairs: tuple[tuple[str, str], ...], width: float) -> None:
    for label, value in pairs:
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.multi_cell(width, 5, label, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(width - 4, 5, value or "—", new_x="LMARGIN", new_y="NEXT", align="L")
    if pairs:
        pdf.ln(2)


def _table(pdf: Any, columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...],
           width: float, caption: str | None = None) -> None:  # fmt: skip
    if caption:
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(width, 5, caption, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "", 8.5)
    first = 2.0 if len(columns) > 1 else 1.0
    col_widths = (first, *([1.0] * (len(columns) - 1)))
    with pdf.table(col_widths=col_widths, width=width, line_height=4.6,
                   headings_style=_headings(), repeat_headings=1,
                   first_row_as_headings=True, text_align="LEFT") as table:  # fmt: skip
        table.row(list(columns))
        for row in rows:
            table.row([cell if cell else "—" for cell in row])
    pdf.ln(3)


def _headings() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family="DejaVu", emphasis="BOLD", fill_color=(238, 243, 242))


def _image_size(png: bytes, width: float) -> tuple[float, float]:
    """Width and height (mm) of a chart: the text width, or less so it is at most 110 mm
    tall (a chart with its heading stays on one page)."""
    w_px, h_px = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk
    shown_w = min(width, 110 * w_px / h_px)
    return shown_w, shown_w * h_px / w_px


def _block(pdf: Any, block: object, width: float) -> None:
    if isinstance(block, Paragraph):
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width, 5.2, block.text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)
    elif isinstance(block, Notice):
        pdf.set_fill_color(251, 238, 238)
        pdf.set_font("DejaVu", "B", 10)
        text = block.text + "".join(f"\n  • {item}" for item in block.items)
        pdf.multi_cell(width, 5.2, text, fill=True, border="L", new_x="LMARGIN",
                       new_y="NEXT", align="L")  # fmt: skip
        pdf.ln(2)
    elif isinstance(block, Fields):
        _pairs(pdf, block.pairs, width)
    elif isinstance(block, Headline):
        per_row = 3
        box = width / per_row
        for start in range(0, len(block.figures), per_row):
            if pdf.will_page_break(20):
                pdf.add_page()
            y = pdf.get_y()
            for i, (figure, text) in enumerate(block.figures[start : start + per_row]):
                x = pdf.l_margin + i * box
                pdf.set_xy(x, y)
                pdf.set_font("DejaVu", "B", 16)
                pdf.set_text_color(*TEAL)
                pdf.cell(box - 3, 8, figure, new_x="LEFT", new_y="NEXT")
                pdf.set_font("DejaVu", "", 8.5)
                pdf.set_text_color(0, 0, 0)
                pdf.multi_cell(box - 3, 4.2, text, align="L")
            pdf.set_xy(pdf.l_margin, y + 20)
        pdf.ln(2)
    elif isinstance(block, Table):
        _table(pdf, block.columns, block.rows, width, block.caption)
    elif isinstance(block, Figure):
        chart = block.chart
        shown_w, height = _image_size(chart.png, width)
        if pdf.will_page_break(height + 10):
            pdf.add_page()
        pdf.image(io.BytesIO(chart.png), x=pdf.l_margin, w=shown_w, h=height,
                  alt_text=chart.alt, title=chart.title)  # fmt: skip
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(width, 4.4, chart.alt, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)
        _table(pdf, chart.columns, chart.rows, width)
