"""Small charts drawn on the server as SVG: no script, no external library, printable.

Each chart carries a title and a text alternative, and pages put the same numbers in a
table beside it, so nothing is only visible as a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart"]


def bar_chart(
    points: Sequence[tuple[str, int]], *, title: str, description: str, width: int = 720,
    height: int = 220,
) -> Markup:  # fmt: skip
    """Vertical bars, one per (label, value); every fourth label is written under its bar."""
    margin_top, margin_bottom, margin_side = 24, 36, 40
    top = max((value for _, value in points), default=0) or 1
    inner_w = width - 2 * margin_side
    inner_h = height - margin_top - margin_bottom
    step = inner_w / max(len(points), 1)
    bar = max(step * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="bars">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<line x1="{margin_side}" y1="{height - margin_bottom}" x2="{width - margin_side}" '
        f'y2="{height - margin_bottom}" stroke="#4a4a4a"/>',
        f'<text x="{margin_side - 6}" y="{margin_top + 4}" text-anchor="end" '
        f'font-size="11" fill="#1b1b1b">{top}</text>',
    ]
    for index, (label, value) in enumerate(points):
        h = inner_h * value / top
        x = margin_side + index * step + (step - bar) / 2
        y = height - margin_bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="#1f3b38"><title>{escape(label)}: {value}</title></rect>'
        )
        if index % 4 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - margin_bottom + 16}" '
                f'text-anchor="middle" font-size="11" fill="#1b1b1b">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
