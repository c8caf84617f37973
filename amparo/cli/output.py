"""Rendering rows for people (table), programs (json) and spreadsheets (csv)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from amparo.services.csv_safety import safe_cell

__all__ = ["FORMATS", "render"]

FORMATS = ("table", "json", "csv")
MAX_CELL = 60  # characters shown per cell in table output


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    text = " ".join(str(value).split())
    # Terminal control characters could rewrite the screen: show them, never send them.
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str]) -> str:
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        # csv quotes a cell holding "\n" (the line terminator) but not a lone "\r", which
        # readers take as a line break: "x\r=HYPERLINK(...)" would start a row with a formula.
        quoting = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        for row in rows:
            # Spreadsheets run cells that start like formulas: see amparo.services.csv_safety.
            line = [safe_cell(row.get(c)) for c in columns]
            (quoting if any("\r" in c for c in line) else writer).writerow(line)
        return buffer.getvalue()
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    lines.append(f"({len(cells)} rows)")
    return "\n".join(lines) + "\n"
