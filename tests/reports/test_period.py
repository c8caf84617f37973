"""The period report on demo data: headline figures recomputed with plain SQL, HTML with
charts and tables, PDF pages rendered with pdftoppm and read back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.demo import DemoSize, populate
from amparo.errors import ValidationError
from amparo.registry import Registry
from amparo.reports.period import STEPS, build_period_report, export_period_report
from amparo.store import schema

START, END = date(2024, 1, 1), date(2024, 12, 31)


@pytest.fixture
def demo(registry: Registry) -> Registry:
    populate(registry, size=DemoSize(defenders=40, incidents=160))
    return registry


def acts_in_period(registry: Registry, act_type: str | None = None) -> int:
    a, i = schema.acts, schema.incidents
    stmt = (sa.select(sa.func.count()).select_from(a.join(i, a.c.incident_id == i.c.id))
            .where(i.c.date_start.between(START, END)))  # fmt: skip
    if act_type:
        stmt = stmt.where(a.c.act_type == act_type)
    with registry.store.read() as conn:
        return int(conn.execute(stmt).scalar_one())


def test_html_report_figures_charts_and_method(demo: Registry) -> None:
    steps: list[int] = []
    doc = build_period_report(demo, START, END, progress=lambda n, total, _: steps.append(n))
    assert steps == list(range(1, STEPS + 1))
    headline = dict((text, figure) for figure, text in doc.sections[0].blocks[0].figures)  # type: ignore[union-attr]
    total = acts_in_period(demo)
    assert total > 0 and headline["acts recorded"] == f"{total:,}"
    assert headline["killings"] == f"{acts_in_period(demo, 'A01'):,}"
    html = export_period_report(demo, START, END, fmt="html").decode()
    assert html.count("<svg") == 6 and html.count("<figcaption>") == 6
    for text in ("Acts by type", "Acts by country", "Acts per month", "Escalation patterns",
                 "Methodology", "Counting unit", "Internal report"):  # fmt: skip
        assert text in html
    entry = demo.audit.entries(action="report.period")[-1]
    assert "from=2024-01-01 to=2024-12-31 lang=en format=html" in entry.detail


def test_public_spanish_pdf_pages_and_text(demo: Registry, tmp_path: Path) -> None:
    pdf = export_period_report(demo, START, END, fmt="pdf", lang="es", public=True)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 3 <= len(pages) <= 12
    assert all(p.stat().st_size > 1000 for p in pages)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        assert re.search(rf"^Pages:\s+{len(pages)}$", info, re.MULTILINE), info
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    for phrase in ("Ataques contra personas defensoras", "Cifras principales",
                   "Actos por tipo", "Metodología", "Conteos pequeños", "k = 5",
                   f"{len(pages)}/{len(pages)}"):  # fmt: skip
        assert phrase in text, phrase
    assert "Berta" not in text


def test_bad_period_and_language(registry: Registry) -> None:
    with pytest.raises(ValidationError, match="before the start"):
        build_period_report(registry, END, START)
    with pytest.raises(ValidationError, match="en or es"):
        build_period_report(registry, START, END, lang="de")
    empty = build_period_report(registry, START, END)
    assert "No acts were recorded" in str(empty.sections[1])
