"""UN Special Rapporteur communications: blocks A-H from the records, refusal without
consent, the missing facts listed, urgent appeal or allegation letter, PDF and text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from amparo.errors import NotFound
from amparo.registry import Registry
from amparo.reports.document import render_text
from amparo.reports.un_communication import Refused, draft, export_communication
from tests import factories
from tests.reports.conftest import Case, as_role, make_case


def test_blocks_a_to_h_from_the_records(registry: Registry, case: Case) -> None:
    result = draft(registry, case.case_id, link_to_work="She leads the land defence council.",
                   submitted_by="Red de Defensoras")  # fmt: skip
    text = render_text(result.document)
    for heading in ("A. Victim", "B. Human rights work", "C. The violations",
                    "D. Alleged perpetrators", "E. Action taken nationally",
                    "F. Submitting source", "G. Consent", "H. Request"):  # fmt: skip
        assert heading in text
    assert "Berta CANARY-LEGAL Cáceres" in text  # A: her legal name (consent: full name)
    assert "CANARY-CONTACT" not in text and "kept confidential" in text
    assert "She leads the land defence council." in text and "Red de Defensoras" in text
    assert "Death threat" in text and "Arbitrary arrest" in text and "2024-05-14" in text
    assert "Private security" in text and "Guard Unit 7" in text  # D, not a State actor
    assert "Complaint to the prosecutor" in text and "No answer" in text  # E
    assert "2024-06-01" in text and "full name: Berta CANARY-LEGAL Cáceres" in text  # G
    # An arrest is recorded: detention details are asked for, and the appeal is urgent.
    assert [code for code, _ in result.missing] == ["C.detention"]
    assert result.kind == "urgent-appeal" and "urgent appeal" in text.lower()
    assert "detention or disappearance recorded" in result.urgent_reasons


def test_refused_without_consent_and_nothing_written(registry: Registry, tmp_path: Path) -> None:
    case = make_case(registry, un_consent=False)
    with pytest.raises(Refused) as refused:
        export_communication(registry, case.case_id, fmt="text")
    assert [code for code, _ in refused.value.missing] == ["G.consent"]
    assert "consent" in str(refused.value)
    entry = registry.audit.entries(action="report.un_communication")[-1]
    assert "refused=yes missing=G.consent" in entry.detail


def test_refused_consent_expired_or_refused_or_anonymous(registry: Registry) -> None:
    for consent in (
        {"purpose": "un_submission", "granted": False, "recorded_on": "2024-06-01"},
        {"purpose": "un_submission", "granted": True, "recorded_on": "2024-06-01",
         "expires_on": "2025-01-01"},
        {"purpose": "un_submission", "granted": True, "recorded_on": "2024-06-01",
         "name_choice": "anonymous"},
    ):  # fmt: skip
        d = registry.defenders.add(factories.defender(consents=[consent]))
        assert d.case_id
        with pytest.raises(Refused) as refused:
            draft(registry, d.case_id)
        code = "G.name_choice" if consent.get("name_choice") else "G.consent"
        assert [c for c, _ in refused.value.missing] == [code]


def test_missing_facts_listed_and_allegation_for_past_harm(registry: Registry) -> None:
    d = registry.defenders.add(factories.defender(
        sectors=[], organisations=[], nationality=None, gender_identity=None, sex=None,
        consents=[{"purpose": "un_submission", "granted": True, "recorded_on": "2024-06-01",
                   "name_choice": "initials"}],
    ))  # fmt: skip
    assert d.id and d.case_id
    old = factories.incident(date_start="2019-03-02", perpetrators=[], sources=[
        {"source_type": "media_report", "reliability": "unsure"}])  # fmt: skip
    old["acts"][0].update({"victim_defender_id": d.id, "involvements": []})
    registry.incidents.add(old, case_id=d.case_id)
    result = draft(registry, d.case_id, lang="es")
    codes = [code for code, _ in result.missing]
    assert codes == ["A.gender", "A.age", "A.nationality", "B.work", "B.link",
                     "D.perpetrator", "E.national", "F.source", "F.media_only"]  # fmt: skip
    assert result.kind == "allegation" and result.urgent_reasons == []
    text = render_text(result.document)
    assert "Carta de alegación" in text and "Datos que faltan antes de enviar" in text
    assert "iniciales: B. I. F. C." in text  # initials only, as she chose
    forced = draft(registry, d.case_id, kind="urgent-appeal")
    assert forced.kind == "urgent-appeal"


def test_needs_export_rights(registry: Registry, case: Case) -> None:
    viewer = as_role(registry, "viewer", {case.case_id: "read"})
    with pytest.raises(Exception, match="not allowed to export"):
        draft(viewer, case.case_id)
    with pytest.raises(NotFound):
        draft(as_role(registry, "analyst"), case.case_id)
    coordinator = as_role(registry, "coordinator", {case.case_id: "write"}, reauth=True)
    assert draft(coordinator, case.case_id).kind == "urgent-appeal"


def test_pdf_pages_and_text(registry: Registry, case: Case, tmp_path: Path) -> None:
    _, pdf = export_communication(registry, case.case_id, fmt="pdf",
                                       submitted_by="Red de Defensoras")  # fmt: skip
    path = tmp_path / "un.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 1 <= len(pages) <= 4
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pages)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "Urgent appeal" in text and "G. Consent" in text and "Cáceres" in text
    entry = registry.audit.entries(action="report.un_communication")[-1]
    assert "kind=urgent-appeal format=pdf lang=en missing=B.link,C.detention" in entry.detail
    _, plain = export_communication(registry, case.case_id, fmt="text")
    assert plain.decode().startswith("Urgent appeal: Draft communication")
