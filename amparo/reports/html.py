"""A :class:`~amparo.reports.document.Document` as one self-contained HTML file.

No script, no external style sheet, font or image: the charts are inline SVG, so the file
opens offline, prints, and can be archived as it is. Every text is escaped.
"""

from __future__ import annotations

from html import escape

from amparo.reports.document import (
    Document,
    Fields,
    Figure,
    Headline,
    Notice,
    Paragraph,
    Table,
)

__all__ = ["render_html", "table_html"]

STYLE = """
body{font-family:"DejaVu Sans",system-ui,sans-serif;color:#1b1b1b;max-width:60rem;
margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:2px solid #1f3b38;
padding-bottom:.2rem;margin-top:2rem}.subtitle{color:#4a4a4a;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #c8c8c8;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}dt{font-weight:bold}
dd{margin:0}.notice{border-left:4px solid #b3261e;background:#fbeeee;padding:.5rem 1rem}
.headline{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0}
.headline li{border:1px solid #c8c8c8;padding:.5rem 1rem;min-width:9rem}
.headline strong{display:block;font-size:1.6rem;color:#1f3b38}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem}
.redacted{background:#1b1b1b;color:#fff;padding:0 .2rem}footer{margin-top:2rem;
color:#4a4a4a;font-size:.85rem}
"""


def _cell(text: str) -> str:
    out = escape(text)
    return out.replace("[redacted]", '<span class="redacted">[redacted]</span>')


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("%", "").isdigit()


def table_html(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...],
               caption: str | None = None) -> str:  # fmt: skip
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row">{_cell(cell)}</th>' if i == 0 else
             f'<td class="n">{_cell(cell)}</td>' if _is_number(cell) else
             f"<td>{_cell(cell)}</td>")
            for i, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )  # fmt: skip
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(doc: Document) -> str:
    rtl = ' dir="rtl"' if doc.lang == "ar" else ""
    parts = [
        f'<!doctype html><html lang="{escape(doc.lang)}"{rtl}><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    if doc.subtitle:
        parts.append(f'<p class="subtitle">{escape(doc.subtitle)}</p>')
    if doc.meta:
        parts.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{_cell(v)}</dd>"
                                      for k, v in doc.meta) + "</dl>")  # fmt: skip
    for index, section in enumerate(doc.sections):
        anchor = escape(section.anchor or f"s{index + 1}")
        parts.append(f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">'
                     f"{escape(section.heading)}</h2>")  # fmt: skip
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(f"<p>{_cell(block.text)}</p>")
            elif isinstance(block, Notice):
                items = "".join(f"<li>{_cell(i)}</li>" for i in block.items)
                parts.append(f'<div class="notice" role="note"><p>{_cell(block.text)}</p>'
                             + (f"<ul>{items}</ul>" if items else "") + "</div>")  # fmt: skip
            elif isinstance(block, Fields):
                parts.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{_cell(v)}</dd>"
                                              for k, v in block.pairs) + "</dl>")  # fmt: skip
            elif isinstance(block, Headline):
                parts.append('<ul class="headline">' + "".join(
                    f"<li><strong>{escape(n)}</strong>{escape(t)}</li>"
                    for n, t in block.figures) + "</ul>")  # fmt: skip
            elif isinstance(block, Table):
                parts.append(table_html(block.columns, block.rows, block.caption))
            elif isinstance(block, Figure):
                chart = block.chart
                parts.append(f"<figure>{chart.svg}<figcaption>{escape(chart.alt)}"
                             f"</figcaption>{table_html(chart.columns, chart.rows, chart.title)}"
                             "</figure>")  # fmt: skip
        parts.append("</section>")
    if doc.footer:
        parts.append(f"<footer>{escape(doc.footer)}</footer>")
    parts.append("</main></body></html>\n")
    return "".join(parts)
