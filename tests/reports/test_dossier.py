"""Case dossiers: what each reader may see, "[redacted]" for the rest, never a leak."""

from __future__ import annotations

import pytest

from amparo.errors import NotFound
from amparo.registry import Registry
from amparo.reports.document import REDACTED, render_text
from amparo.reports.dossier import build_dossier, export_dossier
from tests.reports.conftest import Case, as_role

CANARIES = ("CANARY-CONTACT", "CANARY-LEGAL", "CANARY-CHILD", "CANARY-SOURCE",
            "CANARY-SECRET-TITLE", "CANARY-SECRET-TEXT")  # fmt: skip


def text_for(reader: Registry, case: Case) -> str:
    return render_text(build_dossier(reader, case.case_id))


def test_operator_and_exporting_coordinator_see_everything(registry: Registry, case: Case) -> None:
    for reader in (registry, as_role(registry, "coordinator", {case.case_id: "write"}, True)):
        text = text_for(reader, case)
        assert all(canary in text for canary in CANARIES)
        assert "Berta Flores" in text and case.evidence_sha256 in text
        assert "Safe house rota" in text and REDACTED not in text
        assert "Death threat" in text and "Arbitrary arrest" in text


def test_member_without_export_sees_identities_but_not_contacts_or_confidential(
    registry: Registry, case: Case
) -> None:
    for reader in (
        as_role(registry, "documenter", {case.case_id: "write"}),
        as_role(registry, "viewer", {case.case_id: "read"}),
        as_role(registry, "coordinator", {case.case_id: "write"}),
    ):  # no reauth
        text = text_for(reader, case)
        assert "Berta Flores" in text and case.evidence_sha256 in text
        assert "Two men on a motorbike" in text  # the narrative of the open incident
        assert not any(canary in text for canary in CANARIES), reader.principal.role
        assert text.count(REDACTED) >= len(CANARIES)


def test_analyst_sees_pseudonymised_facets_only(registry: Registry, case: Case) -> None:
    text = text_for(as_role(registry, "analyst"), case)
    assert "Death threat" in text and "Arbitrary arrest" in text  # coded facets
    for name in (*CANARIES, "Berta", "motorbike", "Radio station", case.evidence_sha256,
                 "Safe house", case.defender_id, case.incident_id):  # fmt: skip
        assert name not in text
    assert REDACTED in text


def test_strangers_learn_nothing(registry: Registry, case: Case) -> None:
    other = registry.cases.create("Other")
    for reader in (as_role(registry, "viewer", {other: "read"}),
                   as_role(registry, "documenter")):  # fmt: skip
        with pytest.raises(NotFound):
            build_dossier(reader, case.case_id)
    with pytest.raises(NotFound):
        build_dossier(registry, "0" * 32)


def test_export_formats_and_audit(registry: Registry, case: Case) -> None:
    reader = as_role(registry, "viewer", {case.case_id: "read"})
    html = export_dossier(reader, case.case_id, fmt="html", lang="es").decode()
    assert html.startswith("<!doctype html>") and 'lang="es"' in html
    assert "Expediente del caso" in html and "Amenaza de muerte" in html
    assert '<span class="redacted">[redacted]</span>' in html
    assert not any(canary in html for canary in CANARIES)
    pdf = export_dossier(registry, case.case_id, fmt="pdf")
    assert pdf.startswith(b"%PDF-")
    entries = [e for e in registry.audit.entries() if e.action == "report.dossier"]
    assert [e.object_id for e in entries] == [case.case_id, case.case_id]
    assert "level=identities format=html lang=es" in entries[0].detail
    assert "level=full format=pdf" in entries[1].detail
    assert entries[0].actor == "user:viewer"
