"""Small charts drawn on the server as SVG: no script, no external library, printable.

Each chart carries a title and a text alternative, and pages put the same numbers in a
table beside it, so nothing is only visible as a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "trajectory_chart"]


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


def trajectory_chart(
    points: Sequence[tuple[str, float]], cutpoints: Sequence[tuple[str, float]], *, title: str,
    description: str, width: int = 720, height: int = 240, top: float = 3.0,
) -> Markup:  # fmt: skip
    """A line of scores (label, value from 0 to ``top``) over dashed lines at the cut-points
    (name, value), each named at its left; every point is a dot with its own title."""
    margin_top, margin_bottom, margin_side = 16, 36, 64
    inner_w = width - 2 * margin_side
    inner_h = height - margin_top - margin_bottom
    step = inner_w / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return height - margin_bottom - inner_h * min(max(value, 0.0), top) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="trajectory-title trajectory-desc" class="trajectory">',
        f'<title id="trajectory-title">{escape(title)}</title>',
        f'<desc id="trajectory-desc">{escape(description)}</desc>',
        f'<line x1="{margin_side}" y1="{height - margin_bottom}" x2="{width - margin_side}" '
        f'y2="{height - margin_bottom}" stroke="#4a4a4a"/>',
    ]
    for name, value in cutpoints:
        y = y_of(value)
        parts.append(
            f'<line x1="{margin_side}" y1="{y:.1f}" x2="{width - margin_side}" y2="{y:.1f}" '
            f'stroke="#6b6b6b" stroke-dasharray="4 4"/>'
            f'<text x="{margin_side - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#1b1b1b">{escape(name)} {value:g}</text>'
        )
    xy = [(margin_side + i * step if len(points) > 1 else width / 2, y_of(v))
          for i, (_, v) in enumerate(points)]  # fmt: skip
    if len(xy) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f3b38" stroke-width="2"/>')
    for (x, y), (label, value) in zip(xy, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f3b38">'
            f"<title>{escape(label)}: {value:.2f}</title></circle>"
            f'<text x="{x:.1f}" y="{height - margin_bottom + 16}" text-anchor="middle" '
            f'font-size="11" fill="#1b1b1b">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
