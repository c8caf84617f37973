"""``amparo report period|dossier`` and ``amparo un-communication`` over a real vault."""

from __future__ import annotations

import subprocess
from pathlib import Path

from amparo.registry import Registry
from tests.cli.test_cli import ok, run
from tests.conftest import PASSPHRASE
from tests.reports.conftest import make_case


def _case(vault_dir: Path, un_consent: bool = True) -> str:
    with Registry.open(vault_dir, PASSPHRASE, actor="tester") as registry:
        return make_case(registry, un_consent=un_consent).case_id


def test_period_report_pdf_with_progress(vault_dir: Path, tmp_path: Path) -> None:
    _case(vault_dir)
    out = tmp_path / "reports" / "2024.pdf"
    result = run("report", "period", "--vault", str(vault_dir), "--from", "2024-01-01", "--to",
                 "2024-12-31", "--lang", "es", "--format", "pdf", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "[1/10] total" in result.stderr and "[10/10] charts" in result.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert "Cifras principales" in text and "Metodología" in text
    assert not list(out.parent.glob("*.part"))
    bad = run("report", "period", "--vault", str(vault_dir), "--from", "2024-13-01", "--to",
              "2024-12-31", "--out", str(tmp_path / "x.html"))  # fmt: skip
    assert bad.exit_code == 2 and "not a date" in bad.output
    backwards = run("report", "period", "--vault", str(vault_dir), "--from", "2024-12-31",
                    "--to", "2024-01-01", "--out", str(tmp_path / "x.html"))  # fmt: skip
    assert backwards.exit_code == 3 and not (tmp_path / "x.html").exists()


def test_dossier_full_and_redacted(vault_dir: Path, tmp_path: Path) -> None:
    case_id = _case(vault_dir)
    full, viewer = tmp_path / "full.html", tmp_path / "viewer.html"
    ok("report", "dossier", case_id, "--vault", str(vault_dir), "--format", "html", "--out",
       str(full))  # fmt: skip
    ok("report", "dossier", case_id, "--vault", str(vault_dir), "--format", "html",
       "--redact-as", "viewer", "--out", str(viewer))  # fmt: skip
    assert "CANARY-CONTACT" in full.read_text() and "[redacted]" not in full.read_text()
    assert "CANARY-CONTACT" not in viewer.read_text() and "[redacted]" in viewer.read_text()
    missing = run("report", "dossier", "0" * 32, "--vault", str(vault_dir), "--out",
                  str(tmp_path / "none.pdf"))  # fmt: skip
    assert missing.exit_code == 4 and not (tmp_path / "none.pdf").exists()


def test_un_communication_refused_and_written(vault_dir: Path, tmp_path: Path) -> None:
    refused_case = _case(vault_dir, un_consent=False)
    out = tmp_path / "un.txt"
    refused = run("un-communication", refused_case, "--vault", str(vault_dir), "--format",
                  "text", "--out", str(out))  # fmt: skip
    assert refused.exit_code == 8 and not out.exists()
    assert "refused" in refused.stderr and "G.consent" in refused.stderr
    case_id = _case(vault_dir)
    result = run("un-communication", case_id, "--vault", str(vault_dir), "--format", "text",
                 "--kind", "allegation", "--submitted-by", "Red", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "B.link" in result.stderr and "C.detention" in result.stderr
    assert out.read_text().startswith("Allegation letter: Draft communication")
    assert "--link-to-work" in ok("un-communication", "--help")
