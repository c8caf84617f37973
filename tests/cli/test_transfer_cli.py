"""``amparo import`` and ``amparo export``: record files, reports, archives, partner CSVs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner, Result

from amparo.cli.main import cli
from amparo.registry import Registry
from amparo.vault import init_vault
from tests import factories
from tests.conftest import CHEAP_KDF, PASSPHRASE, PostgresDatabases

ARCHIVE_PASSPHRASE = "the archive passphrase"


def run(vault: Path, *args: str, **env: str | None) -> Result:
    environment: dict[str, str | None] = {
        "AMPARO_PASSPHRASE": PASSPHRASE, "AMPARO_VAULT": str(vault),
        "AMPARO_DATABASE_URL": None, "AMPARO_EXPORT_PASSPHRASE": ARCHIVE_PASSPHRASE, **env,
    }  # fmt: skip
    return CliRunner(env=environment).invoke(cli, list(args), catch_exceptions=False)


CSV = (
    "Titulo,Fecha,Pais,Tipo\n"
    "Amenaza,14/05/2024,Honduras,amenaza\n"
    "Fecha mala,31/02/2024,Honduras,amenaza\n"
    "Sin tipo,01/03/2024,Honduras,\n"
)
MAPS = ["--map", "Titulo=title", "--map", "Fecha=date_start", "--map", "Pais=country",
        "--map", "Tipo=act_type", "--map", "country:Honduras=HN",
        "--map", "act_type:amenaza=A09", "--map", "date_format=%d/%m/%Y"]  # fmt: skip


def test_import_with_map_dry_run_and_reports(
    vault_dir: Path, registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "partner.csv"
    source.write_text(CSV, encoding="utf-8")
    dry = run(vault_dir, "import", str(source), *MAPS, "--dry-run")
    assert dry.exit_code == 3, dry.output
    assert "1 would be imported, 2 rejected" in dry.stdout and "nothing stored" in dry.stdout
    assert "date_start" in dry.stderr and "acts" in dry.stderr
    assert registry.incidents.count() == 0

    report = tmp_path / "report.json"
    real = run(vault_dir, "import", str(source), *MAPS, "--report", str(report))
    assert real.exit_code == 3 and "1 imported, 2 rejected" in real.stdout
    data = json.loads(report.read_text())
    assert [(p["row"], p["line"], p["field"]) for p in data["problems"]] == [
        (2, 3, "date_start"), (3, 4, "acts")]  # fmt: skip
    assert registry.incidents.count() == 1

    as_csv = tmp_path / "report.csv"
    run(vault_dir, "incidents", "import", str(source), *MAPS, "--dry-run", "--report",
        str(as_csv))  # fmt: skip
    assert next(csv.reader(io.StringIO(as_csv.read_text()))) == ["row", "line", "field", "reason"]
    unknown = run(vault_dir, "import", str(source))
    assert unknown.exit_code == 3 and "unknown column(s): Titulo" in unknown.stderr


def test_archive_round_trip_and_refusals(
    vault_dir: Path, registry: Registry, tmp_path: Path, postgres: PostgresDatabases | None
) -> None:
    incident = registry.incidents.add(factories.incident())
    registry.incidents.amend(incident.id, {"title": "Amended"})
    archive = tmp_path / "all.amparo"
    made = run(vault_dir, "export", "--archive", str(archive))
    assert made.exit_code == 0, made.output
    again = run(vault_dir, "export", "--archive", str(archive))
    assert again.exit_code == 2 and "--force" in again.output

    refused = run(vault_dir, "import", str(archive))
    assert refused.exit_code == 8 and "not empty" in refused.stderr

    url = postgres.new() if postgres else None
    target = tmp_path / "target"
    init_vault(target, PASSPHRASE, database_url=url, kdf=CHEAP_KDF)
    wrong = run(target, "import", str(archive), AMPARO_EXPORT_PASSPHRASE="not it at all")
    assert wrong.exit_code == 5, wrong.output
    restored = run(target, "import", str(archive))
    assert restored.exit_code == 0, restored.output
    code = restored.stdout.strip().splitlines()[-1]
    assert len(code.split("-")) == 6
    shown = json.loads(run(target, "incidents", "show", incident.id).stdout)
    assert shown["title"] == "Amended" and shown["version"] == 2
    history = run(target, "incidents", "history", incident.id, "--format", "json").stdout
    assert [v["version"] for v in json.loads(history)] == [1, 2]
    assert run(target, "audit", "verify").exit_code == 0
    if postgres is not None and url:
        postgres.drop(url)


def test_partner_csv_export(vault_dir: Path, registry: Registry, tmp_path: Path) -> None:
    sharing = [{"purpose": "sharing_with_partners", "granted": True, "recorded_on": "2024-01-01"}]
    defender = registry.defenders.add(factories.defender(consents=sharing))
    registry.incidents.add(factories.incident())  # no victim profile: exported too
    silent = registry.defenders.add(factories.defender(display_name="Zqx"))
    registry.incidents.add(factories.incident(
        acts=[{"act_type": "A09", "victim_defender_id": silent.id}]))  # fmt: skip
    registry.incidents.add(factories.incident(
        acts=[{"act_type": "A09", "victim_defender_id": defender.id}]))  # fmt: skip
    out = tmp_path / "partner.csv"
    result = run(vault_dir, "export", "--csv", str(out), "--pseudonymise", "defenders,places",
                 "--places", "exact", "--salt-from-passphrase",
                 AMPARO_PSEUDONYM_PASSPHRASE="shared pseudonym secret")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 incidents written" in result.stdout and "1 withheld" in result.stdout
    rows = [r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
            if r["victim_defender_id"]]  # fmt: skip
    assert rows[0]["victim_defender_id"].startswith("P-") and rows[0]["place"].startswith("L-")
    assert rows[0]["date_start"] == "2024-05" and rows[0]["title"] == ""
    assert defender.id not in out.read_text()
    both = run(vault_dir, "export")
    assert both.exit_code == 2 and "exactly one" in both.output
