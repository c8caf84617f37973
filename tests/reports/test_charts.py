"""Server-side charts: well-formed SVG with title and text alternative, PNG, the data table,
byte-for-byte the same output for the same data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from amparo.reports.charts import SUPPRESSED, bar_chart, line_chart, stacked_bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_svg_png_alt_and_table() -> None:
    chart = bar_chart(
        ["Colombia", "Mexico", "Honduras", "Peru"],
        [142, 30, 19, None],
        title="Killings by country",
        category="Country",
        measure="Killings",
    )
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Killings by country"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == chart.alt  # type: ignore[union-attr]
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Colombia" in texts and "Honduras" in texts  # text kept as text (searchable)
    assert "width=" not in chart.svg.split(">", 1)[0]  # sized by the page
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.png) > 2000
    assert chart.alt == ("Bar chart: Killings by country. 4 categories, total 191; highest: "
                         "Colombia 142, Mexico 30, Honduras 19; 1 suppressed as too small to "
                         "publish.")  # fmt: skip
    assert chart.columns == ("Country", "Killings")
    assert chart.rows == (("Colombia", "142"), ("Mexico", "30"), ("Honduras", "19"),
                          ("Peru", SUPPRESSED))  # fmt: skip
    assert chart.csv().splitlines() == ["Country,Killings", "Colombia,142", "Mexico,30",
                                        "Honduras,19", "Peru,<k"]  # fmt: skip


def test_output_is_deterministic_and_dates_free() -> None:
    def make() -> tuple[str, bytes]:
        chart = line_chart(
            ["2023-01", "2023-02", "2023-03"],
            {"A09": [3, 5, 4], "A20": [1, 2, 8]},
            title="Trend",
            category="Month",
            measure="Acts",
        )
        return chart.svg, chart.png

    first, second = make(), make()
    assert first == second
    assert "<dc:date>" not in first[0] and b"tIME" not in first[1]


def test_labels_are_escaped_and_dollars_are_text() -> None:
    chart = bar_chart(
        ['<script>alert("x")</script>', "$5 & up"],
        [1, 2],
        title="<b>T</b>",
        category="c",
        measure="m",
    )
    ET.fromstring(chart.svg)  # still well-formed
    assert "<script>" not in chart.svg and "<b>" not in chart.svg
    assert "$5 &amp; up" in chart.svg


def test_stacked_and_line_alt_text_and_rows() -> None:
    stacked = stacked_bar_chart(
        ["HN", "CO"],
        {"woman": [1, 2], "man": [3, None]},
        title="By gender",
        category="Country",
        measure="Acts",
    )
    ET.fromstring(stacked.svg)
    assert stacked.columns == ("Country", "woman", "man")
    assert stacked.rows == (("HN", "1", "3"), ("CO", "2", SUPPRESSED))
    assert stacked.alt.startswith("Stacked bar chart: By gender. 2 categories × 2 series")
    assert "highest: HN 4" in stacked.alt and "1 suppressed" in stacked.alt
    spanish = line_chart(
        ["2023", "2024"],
        {"A01": [300, 324]},
        title="Asesinatos",
        category="Año",
        measure="Actos",
        lang="es",
    )
    assert spanish.alt == ("Gráfico de líneas: Asesinatos. A01 de 300 (2023) a 324 (2024), "
                           "máximo 324 (2024).")  # fmt: skip


def test_empty_and_mismatched_input() -> None:
    empty = bar_chart([], [], title="Nothing", category="c", measure="m")
    assert empty.rows == () and "no data" in empty.alt
    ET.fromstring(empty.svg)
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart(["a"], [1, 2], title="t", category="c", measure="m")
    with pytest.raises(ValueError, match="one value per period"):
        line_chart(["a"], {"s": [1, 2]}, title="t", category="c", measure="m")
